"""Parallel session starts at MAX_CONCURRENT_SESSIONS never exceed it (real threads).

On both databases: PostgreSQL locks the owner's row, SQLite's IMMEDIATE transactions take the
database's write lock first, so starts at the limit queue instead of overshooting it.
"""

import pytest

from calls.models import CallSession
from tests.helpers import WIDGET_ORIGIN, record, run_concurrently

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("calls_settings"),
]


@pytest.mark.parametrize("already_running", [0, 2])
def test_parallel_starts_never_exceed_the_limit(make_character, user, settings, already_running):
    from rest_framework.test import APIClient

    settings.MAX_CONCURRENT_SESSIONS = 3
    make_character(user, slug="busy-bot", allowed_origins=[WIDGET_ORIGIN])
    make_character(user, slug="busy-bot-2", allowed_origins=[WIDGET_ORIGIN])
    for _ in range(already_running):
        assert start(APIClient(), "busy-bot").status_code == 200
    slugs = ["busy-bot", "busy-bot-2"] * 5  # two characters of one owner share the limit
    responses = run_concurrently([lambda s=s: start(APIClient(), s) for s in slugs])
    counts = record(f"10 parallel starts, limit 3, {already_running} running", responses)
    assert counts == {200: 3 - already_running, 429: 7 + already_running}
    assert CallSession.objects.filter(owner=user).count() == 3
    assert all(r.has_header("Retry-After") for r in responses if r.status_code == 429)


def start(client, slug):
    return client.post("/api/agents/agent-session/", {"agent": slug}, HTTP_ORIGIN=WIDGET_ORIGIN)


def test_parallel_runtime_fetches_never_exceed_the_fetch_limit(make_character, user, settings):
    """The session's row is locked while a fetch is counted: 12 at once at a limit of 4 hand
    the runtime out exactly 4 times."""
    from rest_framework.test import APIClient

    from calls.models import RuntimeFetch
    from tests.helpers import runtime_url, started, worker_client

    settings.RUNTIME_FETCH_LIMIT = 4
    make_character(user, slug="busy-bot", allowed_origins=[WIDGET_ORIGIN])
    session_id = started(APIClient(), "busy-bot")
    responses = run_concurrently([lambda: worker_client().get(runtime_url(session_id))] * 12)
    counts = record("12 parallel runtime fetches, limit 4", responses)
    assert counts == {200: 4, 429: 8}
    assert RuntimeFetch.objects.filter(session_id=session_id).count() == 4


def test_a_fetch_racing_the_report_comes_first_or_is_gone(make_character, user):
    from rest_framework.test import APIClient

    from calls.models import RuntimeFetch
    from tests.helpers import report_url, runtime_url, started, worker_client

    make_character(user, slug="busy-bot", allowed_origins=[WIDGET_ORIGIN])
    session_id = started(APIClient(), "busy-bot")

    def fetch():
        return worker_client().get(runtime_url(session_id))

    def report():
        return worker_client().post(report_url(session_id), {})

    responses = run_concurrently([fetch, report, fetch, fetch])
    record("3 runtime fetches racing the report", responses)
    assert responses[1].status_code == 200
    handed_out = sum(r.status_code == 200 for r in responses) - 1
    assert {r.status_code for r in responses} <= {200, 410}
    assert RuntimeFetch.objects.filter(session_id=session_id).count() == handed_out
    assert worker_client().get(runtime_url(session_id)).status_code == 410
