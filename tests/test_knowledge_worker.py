"""End to end: an upload is queued in the database and a real `manage.py db_worker` processes it."""

import os
import subprocess
import sys

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from knowledge.models import Document
from tests.helpers import DATABASE_BACKEND, database_url, make_pdf, upload, words

WORKER_TIMEOUT_SECONDS = 120


@pytest.mark.django_db(transaction=True)
def test_db_worker_processes_an_upload(auth_client, character, settings):
    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND}}
    pdf = make_pdf([[words(10, start=line * 10 + 1) for line in range(60)]])

    response = auth_client.post(
        f"/api/knowledge-base/{character.slug}/documents/",
        {"file": upload("handbook.pdf", pdf)},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    document = Document.objects.get(pk=response.json()["id"])
    assert document.status == "PENDING"
    assert DBTaskResult.objects.filter(status="READY").count() == 1

    environment = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        "TASKS_BACKEND": DATABASE_BACKEND,
    }
    # --batch: run every queued task, then exit; the timeout bounds the wait.
    worker = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload", "--no-startup-delay"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_SECONDS,
    )

    assert worker.returncode == 0, worker.stderr
    document.refresh_from_db()
    assert (document.status, document.chunk_count, document.error) == ("PROCESSED", 2, "")
    assert document.chunks.count() == 2
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"

    # What the worker embedded is searchable at once.
    answer = auth_client.get(
        "/api/knowledge-base/query/", {"slug": character.slug, "q": "w0001 w0002 w0003"}
    )
    assert answer.status_code == 200, answer.json()
    assert [passage["metadata"] for passage in answer.json()] == [
        {"source": "handbook.pdf", "page": 1}
    ] * 2
    assert answer.json()[0]["text"].startswith("w0001 w0002 w0003")


def test_db_worker_polls_an_empty_queue_every_task_worker_poll_interval(settings):
    """The library waits 1 s; a webhook's first attempt would wait for it (0.5 s on average)."""
    from knowledge.management.commands.db_worker import Command

    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND}}
    settings.TASK_WORKER_POLL_INTERVAL = 0.3
    parser = Command().create_parser("manage.py", "db_worker")
    assert parser.parse_args([]).interval == 0.3
    assert parser.parse_args(["--interval", "2"]).interval == 2
