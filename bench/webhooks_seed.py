"""The Django side of `make bench-webhooks` (bench/webhooks.py runs it with the bench
environment): `python -m bench.webhooks_seed COMMAND OUT_DIR [ARGS]`.

- `endpoint URL`: one active endpoint of the bench user's organization, every type, at the
  bench's receiver;
- `backlog N`: N events waiting to be dispatched, in bulk, and one `dispatch_events` task;
- `produce RATE SECONDS`: events at a steady rate through the outbox's own path
  (`recording.publish`, each in its own transaction), as changes make them;
- `reset`: no task, delivery or event left;
- `audit N`: N events of one organization for the audit log (INSERT … SELECT over
  generate_series), VACUUM ANALYZE, and the cursors of a page 10,000 events deep;
- `explain`: EXPLAIN (ANALYZE, BUFFERS) of the log's queries, as the API runs them.
"""

import json
import os
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oshara.settings")
django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.seed import BENCH_EMAIL  # noqa: E402
from events import recording, selectors, services, tasks  # noqa: E402
from events.models import Event  # noqa: E402
from events.scope import scope_of  # noqa: E402

DEEP = 10_000
# The audit log's mix: a prefix filter (`character.`) keeps about half of it.
TYPES = [
    "character.updated",
    "character.published",
    "call.started",
    "call.ended",
    "character.updated",
    "form_response.created",
    "document.processed",
    "character.created",
]


def organization():
    user = User.objects.get(email=BENCH_EMAIL)
    return user, scope_of(user.default_organization_id)


def event_fields(scope, index):
    return dict(
        type="character.updated",
        organization=scope,
        subject=("character", index),
        data={"slug": f"bench-agent-{index % 100:03d}", "version": index, "changed": ["name"]},
    )


def endpoint(out, url):
    user, scope = organization()
    Event.objects.filter(organization=scope).delete()
    made = services.create_endpoint(scope, user, url=url, events=[], description="bench")
    (out / "webhooks.json").write_text(json.dumps({"organization": scope, "endpoint": made.pk}))


def backlog(out, count):
    _, scope = organization()
    with transaction.atomic():
        Event.objects.bulk_create(
            (
                Event(
                    type=fields["type"],
                    organization=scope,
                    actor_type="system",
                    subject_type=fields["subject"][0],
                    subject_id=str(fields["subject"][1]),
                    data=fields["data"],
                )
                for fields in (event_fields(scope, index) for index in range(int(count)))
            ),
            batch_size=2000,
        )
        tasks.dispatch_after_commit()


def produce(out, rate, seconds):
    """`rate` events a second for `seconds`, each published in a transaction of its own."""
    _, scope = organization()
    rate, total = float(rate), int(float(rate) * float(seconds))
    started = time.monotonic()
    for index in range(total):
        wait = started + index / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        with transaction.atomic():
            recording.publish(**event_fields(scope, index))
    took = time.monotonic() - started
    (out / "produced.json").write_text(json.dumps({"events": total, "seconds": took}))


def reset(out):
    """No task, delivery or event left from the phase before."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_tasks_database_dbtaskresult")
        cursor.execute("DELETE FROM events_delivery")
        cursor.execute("DELETE FROM events_event")


AUDIT_INSERT = """
INSERT INTO events_event (id, type, created_at, organization, actor_type, actor_id,
    actor_label, ip, request_id, subject_type, subject_id, data, dispatched)
SELECT 'evt_' || lpad(to_hex((extract(epoch FROM t.at) * 1000)::bigint), 12, '0')
           || substr(md5(t.i::text), 1, 16),
       (%(types)s::text[])[1 + t.i %% %(type_count)s], t.at, %(scope)s, 'user', '1',
       'bench-user@bench.invalid', '127.0.0.1', md5(t.i::text), 'character',
       (t.i %% 100)::text,
       jsonb_build_object('slug', 'bench-agent-' || lpad((t.i %% 100)::text, 3, '0'),
                          'version', t.i, 'changed', jsonb_build_array('name')),
       true
FROM (SELECT i, now() - (%(count)s - i) * interval '50 milliseconds' AS at
      FROM generate_series(1, %(count)s) AS i) AS t
"""


def audit(out, count):
    _, scope = organization()
    count = int(count)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_delivery")
        cursor.execute("DELETE FROM events_event")
        cursor.execute(
            AUDIT_INSERT,
            {"types": TYPES, "type_count": len(TYPES), "scope": scope, "count": count},
        )
        cursor.execute("VACUUM ANALYZE events_event")
    seeded = time.monotonic() - started
    log = Event.objects.filter(organization=scope).order_by("-created_at", "-id")
    deep = log[DEEP - 1]
    typed = log.filter(type__startswith="character.")[DEEP - 1]
    info = {
        "events": count,
        "seconds": seeded,
        "organization": scope,
        "cursor": selectors.encode_cursor(deep),
        "type_cursor": selectors.encode_cursor(typed),
    }
    (out / "audit.json").write_text(json.dumps(info))


def explain(out):
    info = json.loads((out / "audit.json").read_text())
    queries = [
        ("first page", {}),
        (f"page {DEEP:,} events deep", {"cursor": info["cursor"]}),
        (f"?type=character. page {DEEP:,} deep", {"cursor": info["type_cursor"]}),
    ]
    for title, params in queries:
        cursor = selectors.decode_cursor(params["cursor"]) if "cursor" in params else None
        kind = "character." if title.startswith("?type") else None
        # As the API reads it for the bench user's token (the membership in the statement).
        reader = selectors.Reader(organization()[0].pk, None)
        with CaptureQueriesContext(connection) as captured:
            selectors.events_page(reader, limit=50, cursor=cursor, type=kind)
        sql = captured.captured_queries[-1]["sql"]
        with connection.cursor() as db:
            db.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in db.fetchall())
        print(f"-- {title}\n{sql}\n{plan}\n")


COMMANDS = {
    "endpoint": endpoint,
    "backlog": backlog,
    "produce": produce,
    "reset": reset,
    "audit": audit,
    "explain": explain,
}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](Path(sys.argv[2]), *sys.argv[3:])
