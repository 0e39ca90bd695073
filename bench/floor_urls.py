"""The floors: the framework's own cost of answering, with and without the one I/O a path needs.

Three bare Django views under the project's own settings and middleware, no authentication,
no serializer. Each returns bytes that bench/seed.py wrote (the real responses of the same
character), read once at import:

- `/bare`: the retrieve body, no I/O at all;
- `/sql`: the same, after one indexed SELECT (the character's id and revision by slug) on the
  project's database, the least any database-backed read does;
- `/cache`: the appearance body, fetched by one GET from the project's default cache (local
  memory or Redis), the least a cache-backed read does;
- `/insert`: the retrieve body, after one INSERT of a call session row of that character in
  autocommit (the same table, indexes, foreign keys and durable commit as a session start's
  write), the least a request that records something does.
"""

import os
import secrets
from datetime import timedelta
from functools import cache as once
from pathlib import Path

from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone

from calls.models import CallSession
from characters.models import Character

RETRIEVE_BODY = Path(os.environ["BENCH_FLOOR_BODY"]).read_bytes()
APPEARANCE_BODY = Path(os.environ["BENCH_FLOOR_APPEARANCE_BODY"]).read_bytes()
SLUG = os.environ["BENCH_FLOOR_SLUG"]
CACHE_KEY = "bench-floor:appearance"
SELECT = f"SELECT id, revision FROM {Character._meta.db_table} WHERE slug = %s"
# Every column of a session row, so the floor keeps up with the model: each value is the
# field's default, prepared by the field itself (the encrypted MCP headers encrypted), except
# those a session start sets.
SESSION_FIELDS = CallSession._meta.concrete_fields
INSERT = (
    f"INSERT INTO {CallSession._meta.db_table} "
    f"({', '.join(connection.ops.quote_name(field.column) for field in SESSION_FIELDS)}) "
    f"VALUES ({', '.join(['%s'] * len(SESSION_FIELDS))})"
)


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


@once
def character_of_slug():
    return Character.objects.values("id", "owner_id", "organization_id").get(slug=SLUG)


@transaction.non_atomic_requests
def one_insert(request):
    character = character_of_slug()
    now = timezone.now()
    values = {
        "id": "sess_" + secrets.token_hex(16),
        "character_id": character["id"],
        "character_slug": SLUG,
        "owner_id": character["owner_id"],
        "organization_id": character["organization_id"],
        "room_name": f"{SLUG}-{secrets.token_hex(6)}",
        "participant_identity": f"visitor-{secrets.token_hex(6)}",
        "started_at": now,
        "expires_at": now + timedelta(hours=1),
    }
    row = [
        field.get_db_prep_save(
            values[field.attname] if field.attname in values else field.get_default(),
            connection,
        )
        for field in SESSION_FIELDS
    ]
    with connection.cursor() as cursor:
        cursor.execute(INSERT, row)
    return respond(RETRIEVE_BODY)


FLOORS = {"bare": bare, "sql": one_sql, "cache": one_cache_get, "insert": one_insert}
urlpatterns = [path(f"{name}", view) for name, view in FLOORS.items()]
