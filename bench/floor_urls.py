"""The floors: the framework's own cost of answering, with and without the one I/O a path needs.

Three bare Django views under the project's own settings and middleware, no authentication,
no serializer. Each returns bytes that bench/seed.py wrote (the real responses of the same
character), read once at import:

- `/bare`: the retrieve body, no I/O at all;
- `/sql`: the same, after one indexed SELECT (the character's id and revision by slug) on the
  project's database, the least any database-backed read does;
- `/cache`: the appearance body, fetched by one GET from the project's default cache (local
  memory or Redis), the least a cache-backed read does.
"""

import os
from pathlib import Path

from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import path

from characters.models import Character

RETRIEVE_BODY = Path(os.environ["BENCH_FLOOR_BODY"]).read_bytes()
APPEARANCE_BODY = Path(os.environ["BENCH_FLOOR_APPEARANCE_BODY"]).read_bytes()
SLUG = os.environ["BENCH_FLOOR_SLUG"]
CACHE_KEY = "bench-floor:appearance"
SELECT = f"SELECT id, revision FROM {Character._meta.db_table} WHERE slug = %s"


def respond(body):
    return HttpResponse(body, content_type="application/json")


# ATOMIC_REQUESTS would otherwise add BEGIN/COMMIT: the floors run exactly one statement.
@transaction.non_atomic_requests
def bare(request):
    return respond(RETRIEVE_BODY)


@transaction.non_atomic_requests
def one_sql(request):
    with connection.cursor() as cursor:
        cursor.execute(SELECT, [SLUG])
        if cursor.fetchone() is None:
            return HttpResponse(status=500)
    return respond(RETRIEVE_BODY)


@transaction.non_atomic_requests
def one_cache_get(request):
    body = cache.get(CACHE_KEY)
    if body is None:  # first request of this worker (local memory) or of the run (Redis)
        cache.set(CACHE_KEY, APPEARANCE_BODY, timeout=None)
        body = APPEARANCE_BODY
    return respond(body)


FLOORS = {"bare": bare, "sql": one_sql, "cache": one_cache_get}
urlpatterns = [path(f"{name}", view) for name, view in FLOORS.items()]
