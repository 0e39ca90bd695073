"""Work an operator can watch: a document's progress in the admin and the API, a failed
document's reason and task, a hint when no worker takes tasks; the upload's character picked
by autocomplete."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from knowledge import progress
from knowledge.admin import NO_WORKER
from knowledge.models import Document, WorkerHeartbeat
from tests.embedders import ProgressRecordingEmbedder
from tests.helpers import DATABASE_BACKEND, upload, words

CHANGELIST = reverse("admin:knowledge_document_changelist")


def documents_url(character):
    return f"/api/knowledge-base/{character.slug}/documents/"


def post_document(client, character, name, content, capture):
    with capture(execute=True):
        response = client.post(
            documents_url(character), {"file": upload(name, content)}, format="multipart"
        )
    assert response.status_code == 201, response.json()
    return response.json()


def test_progress_moves_batch_by_batch_and_ends_done(
    auth_client, character, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.KNOWLEDGE_EMBEDDING_BACKEND = "tests.embedders.ProgressRecordingEmbedder"
    settings.KNOWLEDGE_CHUNK_TOKENS = 100
    settings.KNOWLEDGE_CHUNK_OVERLAP_TOKENS = 0
    monkeypatch.setattr(progress, "EMBEDDING_BATCH", 2)
    monkeypatch.setattr(ProgressRecordingEmbedder, "seen", [])

    body = post_document(
        auth_client, character, "notes.txt", words(500), django_capture_on_commit_callbacks
    )

    # Each batch is embedded after the previous one's count was stored.
    assert ProgressRecordingEmbedder.seen == [
        ("embedding", 0, 5),
        ("embedding", 2, 5),
        ("embedding", 4, 5),
    ]
    document = auth_client.get(f"{documents_url(character)}{body['id']}/").json()
    assert document["status"] == "PROCESSED"
    assert document["progress"] == {
        "stage": "done",
        "pages_done": 1,
        "pages_total": 1,
        "chunks_done": 5,
        "chunks_total": 5,
    }


def test_admin_shows_progress_in_the_list_the_page_and_the_characters_inline(
    admin_client, auth_client, character, django_capture_on_commit_callbacks
):
    body = post_document(
        auth_client, character, "notes.txt", words(50), django_capture_on_commit_callbacks
    )
    assert "Done: 1 of 1 chunks" in admin_client.get(CHANGELIST).content.decode()
    page = admin_client.get(reverse("admin:knowledge_document_change", args=[body["id"]]))
    assert "Done: 1 of 1 chunks" in page.content.decode()
    character_page = admin_client.get(
        reverse("admin:characters_character_change", args=[character.pk])
    )
    assert "Done: 1 of 1 chunks" in character_page.content.decode()


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND}}


def run_worker():
    """The real worker, in this process; it closes connections between tasks, hence the
    transactional tests that use it."""
    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_failed_documents_reason_and_failed_task_are_shown(
    database_queue, admin_client, auth_client, character, django_capture_on_commit_callbacks
):
    body = post_document(
        auth_client,
        character,
        "broken.pdf",
        b"%PDF-1.4 damaged",
        django_capture_on_commit_callbacks,
    )
    run_worker()

    document = Document.objects.get(pk=body["id"])
    assert document.status == "FAILED"
    assert document.stage == "extracting"
    task = DBTaskResult.objects.get()
    assert task.status == "FAILED"  # not "Successful"
    assert "DocumentFailed" in task.exception_class_path
    html = admin_client.get(
        reverse("admin:knowledge_document_change", args=[document.pk])
    ).content.decode()
    assert document.error in html
    assert "Extracting text (failed here)" in html
    assert "Failed</a>" in html
    assert reverse("admin:django_tasks_database_dbtaskresult_change", args=[task.pk]) in html


def test_the_admin_says_when_no_worker_has_been_seen(database_queue, admin_client, settings):
    # The worker's heartbeat (knowledge/worker.py), the one the health check reads too.
    settings.TASK_WORKER_LEASE_SECONDS = 60
    assert NO_WORKER in admin_client.get(CHANGELIST).content.decode()

    WorkerHeartbeat.objects.create(worker_id="busy-worker", seen_at=timezone.now())
    assert NO_WORKER not in admin_client.get(CHANGELIST).content.decode()

    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=2))
    assert NO_WORKER in admin_client.get(CHANGELIST).content.decode()


def test_no_worker_warning_without_a_database_queue(admin_client):
    # Tasks run where they are enqueued (the immediate backend): there is no worker to miss.
    assert NO_WORKER not in admin_client.get(CHANGELIST).content.decode()


@pytest.mark.django_db(transaction=True)
def test_requeue_starts_the_progress_again(
    database_queue, admin_client, auth_client, character, django_capture_on_commit_callbacks
):
    body = post_document(
        auth_client,
        character,
        "broken.pdf",
        b"%PDF-1.4 damaged",
        django_capture_on_commit_callbacks,
    )
    run_worker()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(CHANGELIST, {"action": "requeue", "_selected_action": [body["id"]]})
    document = auth_client.get(f"{documents_url(character)}{body['id']}/").json()
    assert document["status"] == "PENDING"
    assert document["progress"] == {
        "stage": "queued",
        "pages_done": 0,
        "pages_total": None,
        "chunks_done": 0,
        "chunks_total": None,
    }


def test_document_upload_picks_the_character_by_autocomplete(admin_client, character):
    add = admin_client.get(reverse("admin:knowledge_document_add")).content.decode()
    assert 'class="admin-autocomplete' in add
    assert 'data-model-name="document"' in add

    found = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "term": character.slug[:5],
            "app_label": "knowledge",
            "model_name": "document",
            "field_name": "character",
        },
    ).json()
    assert [result["id"] for result in found["results"]] == [str(character.pk)]
