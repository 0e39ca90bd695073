"""The floor view: the framework's own cost of returning a character's JSON bytes.

No authentication, no database, no serializer: the body is read once at import from the file
that bench/seed.py wrote (the project's real retrieve response for the same character).
"""

import os
from pathlib import Path

from django.db import transaction
from django.http import HttpResponse
from django.urls import re_path

BODY = Path(os.environ["BENCH_FLOOR_BODY"]).read_bytes()


@transaction.non_atomic_requests  # ATOMIC_REQUESTS would otherwise open a DB connection
def floor(request, *args, **kwargs):
    return HttpResponse(BODY, content_type="application/json")


urlpatterns = [re_path(r"^", floor)]
