"""A task worker killed mid-document (kill -9 of a real `manage.py db_worker`): the next
worker picks the task up once the lease expires (knowledge/worker.py), and /healthz reports
the worker `stale` while none is alive."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from knowledge.models import Document
from knowledge.worker import WORKER_LOST
from tests.helpers import DATABASE_BACKEND, database_url, upload, words

LEASE_SECONDS = 2
FAST = ("--interval", "0.2")  # how often an idle worker looks for a task
WAIT_SECONDS = 120  # a bound on polling; every wait below ends as soon as its state is seen


def until(condition, seconds=WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def start_worker(settings):
    """Start real `manage.py db_worker` processes against the test database; all are killed
    at the end. `embedder`: the KNOWLEDGE_EMBEDDING_BACKEND the worker runs with."""
    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND}}
    settings.TASK_WORKER_LEASE_SECONDS = LEASE_SECONDS
    started = []

    def start(embedder, max_attempts=3):
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
            "TASKS_BACKEND": DATABASE_BACKEND,
            "TASK_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
            "TASK_MAX_ATTEMPTS": str(max_attempts),
            "KNOWLEDGE_EMBEDDING_BACKEND": embedder,
        }
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", *FAST],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.kill()
        worker.wait()


def kill_9(worker):
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()


def the_task():
    return DBTaskResult.objects.get()


def queue_a_document(auth_client, character):
    response = auth_client.post(
        f"/api/knowledge-base/{character.slug}/documents/",
        {"file": upload("notes.txt", words(120))},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    return Document.objects.get(pk=response.json()["id"])


def worker_health(api_client):
    return api_client.get("/healthz").json()["worker"]


@pytest.mark.django_db(transaction=True)
def test_a_document_whose_worker_was_killed_is_processed_by_the_next(
    api_client, auth_client, character, start_worker
):
    document = queue_a_document(auth_client, character)
    assert worker_health(api_client) == "stale"  # no worker has ever run

    hanging = start_worker("tests.embedders.HangingEmbedder")
    until(lambda: the_task().status == "RUNNING")
    assert worker_health(api_client) == "ok"
    kill_9(hanging)
    until(lambda: worker_health(api_client) == "stale")
    assert the_task().status == "RUNNING"  # nothing alive will ever finish it by itself
    document.refresh_from_db()
    assert document.status == "PENDING"

    start_worker("tests.embedders.LetterEmbedder")
    until(lambda: the_task().status == "SUCCESSFUL")
    document.refresh_from_db()
    assert (document.status, document.error, document.chunk_count) == ("PROCESSED", "", 1)
    assert len(the_task().worker_ids) == 2
    assert worker_health(api_client) == "ok"


@pytest.mark.django_db(transaction=True)
def test_a_document_that_kills_every_worker_ends_failed_with_a_readable_error(
    auth_client, character, start_worker
):
    document = queue_a_document(auth_client, character)
    for attempt in (1, 2):
        worker = start_worker("tests.embedders.HangingEmbedder", max_attempts=2)
        until(lambda attempt=attempt: len(the_task().worker_ids) == attempt)
        until(lambda: the_task().status == "RUNNING")
        kill_9(worker)

    start_worker("tests.embedders.LetterEmbedder", max_attempts=2)
    until(lambda: the_task().status == "FAILED")
    document.refresh_from_db()
    assert (document.status, document.chunk_count) == ("FAILED", 0)
    assert document.error == WORKER_LOST.format(attempts=2)
    assert "Processing stopped 2 times" in document.error
