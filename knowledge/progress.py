"""What a document's processing has reached (the admin and the API's `progress` show it), and
whether a worker is there to process it at all."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from characters import revisions
from knowledge.indexing import embed_texts
from knowledge.models import Document

# Chunks embedded per step: the progress moves at least this often on a long document.
EMBEDDING_BATCH = 64
# A task waiting longer than this, with no task started meanwhile, means no worker runs.
WORKER_SILENCE = timedelta(minutes=1)
TASK_PATH = "knowledge.tasks.process_document"
# The counts of a run that starts again.
RESTARTED = {"pages_done": 0, "pages_total": None, "chunks_done": 0, "chunks_total": None}


def report(document_id, stage, **counts):
    """Record the stage and counts; the character's representation lists its documents, so its
    revision changes too (characters/revisions.py: the character's row first)."""
    with transaction.atomic():
        documents = Document.objects.filter(pk=document_id)
        revisions.bump_characters_of(documents)
        documents.update(stage=stage, progress_at=timezone.now(), **counts)


def embed_with_progress(document_id, chunks):
    """(embedder, vectors) of the chunks' texts, embedded in batches, each one reported."""
    texts = [chunk.text for chunk in chunks]
    embedder, first = embed_texts(texts[:EMBEDDING_BATCH])
    vectors = list(first)  # a backend may answer an array: collected row by row
    report(document_id, Document.Stage.EMBEDDING, chunks_done=len(vectors))
    for start in range(EMBEDDING_BATCH, len(texts), EMBEDDING_BATCH):
        vectors.extend(embed_texts(texts[start : start + EMBEDDING_BATCH])[1])
        report(document_id, Document.Stage.EMBEDDING, chunks_done=len(vectors))
    return embedder, vectors


def last_task(document):
    """The newest task result of the document's processing (the database queue's), or None."""
    return (
        DBTaskResult.objects.filter(task_path=TASK_PATH, args_kwargs__args=[document.pk])
        .order_by("-enqueued_at")
        .first()
    )


def progress(document):
    """The API's `progress` object."""
    return {
        "stage": document.stage,
        "pages_done": document.pages_done,
        "pages_total": document.pages_total,
        "chunks_done": document.chunks_done,
        "chunks_total": document.chunks_total,
    }


def uses_database_queue():
    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    return backend.startswith("django_tasks_db")


def no_worker_seen():
    """True when a document's task has waited over WORKER_SILENCE and no task has started
    since then: nothing is taking work from the queue (the database queue only; other
    backends run tasks their own way)."""
    if not uses_database_queue():
        return False
    since = timezone.now() - WORKER_SILENCE
    waiting = DBTaskResult.objects.filter(
        task_path=TASK_PATH, status="READY", enqueued_at__lt=since
    ).exists()
    return waiting and not DBTaskResult.objects.filter(started_at__gte=since).exists()
