"""Concurrent requests with real threads: no lost update, no duplicate, no 500.

Each thread has its own APIClient and database connection, on PostgreSQL and on SQLite (a
file database in WAL mode with IMMEDIATE transactions, see settings.DATABASES). The tests that
queue background work have a real `manage.py db_worker` polling the same test database
meanwhile (as `make worker` does), and poll for its outcome.
"""

import os
import subprocess
import sys
import time
from collections import Counter

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from characters.models import Character, HandoffTarget, IdempotencyKey
from tests.helpers import (
    DATABASE_BACKEND,
    OUTCOMES,
    client_for,
    database_url,
    png_upload,
    record,
    run_concurrently,
    stored_files,
    upload,
    words,
)

pytestmark = pytest.mark.django_db(transaction=True)
POLL_SECONDS = 60

URL = "/api/ai-characters/"


@pytest.fixture
def task_worker(settings, transactional_db):
    """`manage.py db_worker` polling the test database (every 0.1 s) for the whole test."""
    from django.db import connection

    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND}}
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        "TASKS_BACKEND": DATABASE_BACKEND,
    }
    command = ["manage.py", "db_worker", "--interval", "0.1", "--no-reload", "--no-startup-delay"]
    worker = subprocess.Popen(
        [sys.executable, *command],
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield worker
    assert worker.poll() is None, worker.stderr.read()  # it ran for the whole test
    worker.terminate()
    _, errors = worker.communicate(timeout=30)
    # django-tasks-db's SIGTERM handler calls sys.exit() wherever the idle worker is, even in
    # the middle of its poll's query: what it prints after "shutting down" is that exit, not
    # a failure of the test's work.
    before_shutdown = errors.partition("shutting down gracefully")[0]
    assert "Traceback" not in before_shutdown, errors


def detail(slug):
    return f"{URL}{slug}/"


def eventually(condition):
    """Poll `condition` until it holds (or POLL_SECONDS pass); returns its last answer."""
    deadline = time.monotonic() + POLL_SECONDS
    while not (held := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return held


def test_twenty_concurrent_creates_of_one_slug(make_user):
    clients = [client_for(make_user()) for _ in range(20)]
    body = {"slug": "contested", "name": "Contested"}
    responses = run_concurrently([lambda c=c: c.post(URL, body) for c in clients])
    counts = record("20 creates of one slug", responses)
    assert counts == {201: 1, 400: 19}
    for response in responses:
        if response.status_code == 400:
            assert "slug" in response.json()
    assert Character.objects.filter(slug="contested").count() == 1


def test_concurrent_creates_with_images_leave_one_file(make_user, settings):
    clients = [client_for(make_user()) for _ in range(6)]

    def create(client):
        body = {"slug": "pictured", "name": "P", "image": png_upload()}
        return client.post(URL, body, format="multipart")

    counts = record(
        "6 creates of one slug with images",
        run_concurrently([lambda c=c: create(c) for c in clients]),
    )
    assert counts == {201: 1, 400: 5}
    image = Character.objects.get(slug="pictured").image.name
    assert stored_files(settings.MEDIA_ROOT) == [image]


def test_concurrent_patches_of_different_fields_both_survive(user, make_character):
    make_character(user, slug="shared", name="Shared")
    fields = {
        "name": "New name",
        "greeting": "New greeting",
        "system_prompt": "New prompt",
        "language": "fr",
        "llm_model": "gpt-4o",
        "stt_model": "whisper-1",
        "tts_model": "tts-1",
        "background_audio": "cafe",
    }
    requests = [
        lambda item=item: client_for(user).patch(detail("shared"), dict([item]))
        for item in fields.items()
    ]
    counts = record("8 PATCHes of different fields", run_concurrently(requests))
    assert counts == {200: len(fields)}
    stored = Character.objects.get(slug="shared")
    assert {name: getattr(stored, name) for name in fields} == fields
    # One version each, numbered in the order they committed: no gap, no duplicate.
    numbers = list(stored.versions.order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, len(fields) + 1)) and stored.version == len(fields)
    changed = sorted(path for v in stored.versions.all() for path in v.changed)
    assert changed == sorted(fields)


def test_concurrent_puts_with_one_if_match_one_wins(user, make_character):
    make_character(user, slug="shared", name="Shared")
    etag = client_for(user).get(detail("shared"))["ETag"]
    names = [f"Writer {n}" for n in range(5)]
    requests = [
        lambda name=name: client_for(user).put(
            detail("shared"), {"slug": "shared", "name": name}, HTTP_IF_MATCH=etag
        )
        for name in names
    ]
    responses = run_concurrently(requests)
    counts = record("5 PUTs with one If-Match", responses)
    assert counts == {200: 1, 412: 4}
    winner = next(r for r in responses if r.status_code == 200)
    assert Character.objects.get(slug="shared").name == winner.json()["name"]


def test_concurrent_retries_with_one_idempotency_key_create_once(user):
    body = {"slug": "once", "name": "Once"}
    requests = [
        lambda: client_for(user).post(URL, body, HTTP_IDEMPOTENCY_KEY="retry-1") for _ in range(8)
    ]
    responses = run_concurrently(requests)
    counts = record("8 creates with one Idempotency-Key", responses)
    assert counts == {201: 8}
    assert len({r.content for r in responses}) == 1
    assert Character.objects.filter(slug="once").count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_create_racing_a_delete_of_its_handoff_target(user, make_character):
    totals = Counter()
    # The delete starts a little later in some rounds, so both orders get exercised.
    for round_number, delay in enumerate([0, 0, 0.005, 0.01, 0.02, 0.04]):
        target = make_character(user, slug=f"target-{round_number}")
        body = {
            "slug": f"source-{round_number}",
            "name": "S",
            "handoff_targets": [{"slug": target.slug}],
        }
        create = lambda body=body: client_for(user).post(URL, body)  # noqa: E731

        def delete(slug=target.slug, delay=delay):
            time.sleep(delay)
            return client_for(user).delete(detail(slug))

        created, deleted = run_concurrently([create, delete])
        assert deleted.status_code == 204
        assert created.status_code in (201, 400), created.content
        if created.status_code == 400:
            assert "handoff_targets" in created.json()
        totals[created.status_code] += 1
        totals[deleted.status_code] += 1
    OUTCOMES["create racing a delete of its target (6 rounds)"] = dict(totals)
    print(f"\ncreate racing delete: {dict(totals)}")
    # No link points at a deleted character.
    assert not HandoffTarget.objects.exclude(target__in=Character.objects.all()).exists()
    assert not Character.objects.filter(slug__startswith="target-").exists()


def test_characters_naming_each_other_can_be_saved_at_once(user, make_character):
    make_character(user, slug="alpha")
    make_character(user, slug="beta")
    requests = [
        lambda: client_for(user).patch(detail("alpha"), {"handoff_targets": [{"slug": "beta"}]}),
        lambda: client_for(user).patch(detail("beta"), {"handoff_targets": [{"slug": "alpha"}]}),
    ]
    counts = record("2 mutual handoff PATCHes", run_concurrently(requests * 3))
    assert counts == {200: 6}
    assert HandoffTarget.objects.count() == 2


def test_twenty_concurrent_creates_of_different_slugs(make_user):
    clients = [client_for(make_user()) for _ in range(20)]
    requests = [
        lambda c=c, n=n: c.post(URL, {"slug": f"own-{n}", "name": "Own"})
        for n, c in enumerate(clients)
    ]
    counts = record("20 creates of different slugs", run_concurrently(requests))
    assert counts == {201: 20}
    assert Character.objects.filter(slug__startswith="own-").count() == 20


def test_uploads_processed_by_the_worker_during_patches(user, make_character, task_worker):
    from knowledge.models import Document

    character = make_character(user, slug="busy", name="Busy")
    documents_url = f"/api/knowledge-base/{character.slug}/documents/"

    def upload_text(n):
        body = {"file": upload(f"notes-{n}.txt", words(300).encode())}
        return client_for(user).post(documents_url, body, format="multipart")

    requests = [lambda n=n: upload_text(n) for n in range(4)] + [
        lambda n=n: client_for(user).patch(detail("busy"), {"greeting": f"Hello {n}"})
        for n in range(4)
    ]
    counts = record("4 uploads during 4 PATCHes", run_concurrently(requests))
    assert counts == {200: 4, 201: 4}
    # The worker (a separate process) processes every upload: none stays PENDING.
    eventually(lambda: not Document.objects.exclude(status="PROCESSED").exists())
    assert list(Document.objects.values_list("status", flat=True)) == ["PROCESSED"] * 4


def test_concurrent_signups(db):
    def signup(n, email=None):
        body = {"email": email or f"new-{n}@example.com", "password": "correct-horse-battery-9"}
        return APIClient().post("/api/auth/signup/", body)

    requests = [lambda n=n: signup(n) for n in range(10)]
    requests += [lambda n=n: signup(n, "same@example.com") for n in range(6)]
    counts = record("10 signups + 6 of one address", run_concurrently(requests))
    assert counts == {201: 11, 400: 5}


def test_concurrent_refreshes_of_one_token_rotate_once(user):
    refresh = str(RefreshToken.for_user(user))
    requests = [
        lambda: APIClient().post("/api/auth/refresh/", {"refresh": refresh}) for _ in range(8)
    ]
    responses = run_concurrently(requests)
    counts = record("8 refreshes of one token", responses)
    assert counts == {200: 1, 401: 7}
    new_refresh = next(r for r in responses if r.status_code == 200).json()["refresh"]
    again = APIClient().post("/api/auth/refresh/", {"refresh": new_refresh})
    assert again.status_code == 200


def test_upload_racing_its_characters_delete(user, make_character, settings, task_worker):
    from knowledge.models import Document

    totals = Counter()
    for round_number, delay in enumerate([0, 0, 0.005, 0.01, 0.02]):
        character = make_character(user, slug=f"doomed-{round_number}")

        def post(slug=character.slug):
            body = {"file": upload("notes.txt", words(50).encode())}
            return client_for(user).post(
                f"/api/knowledge-base/{slug}/documents/", body, format="multipart"
            )

        def delete(slug=character.slug, delay=delay):
            time.sleep(delay)
            return client_for(user).delete(detail(slug))

        uploaded, deleted = run_concurrently([post, delete])
        assert deleted.status_code == 204
        assert uploaded.status_code in (201, 404), uploaded.content
        totals[uploaded.status_code] += 1
    OUTCOMES["upload racing its character's delete (5 rounds)"] = dict(totals)
    print(f"\nupload racing delete: {dict(totals)}")
    assert not Document.objects.exists()
    # Files are removed once the delete commits.
    assert eventually(lambda: stored_files(settings.MEDIA_ROOT) == [])
