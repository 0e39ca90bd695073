"""What a document's processing has reached (the admin and the API's `progress` show it).
Whether a worker is there to process it at all: knowledge/worker.py, worker_status()."""

from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from characters import revisions
from knowledge.indexing import embed_texts
from knowledge.models import Document

# Chunks embedded per step: the progress moves at least this often on a long document.
EMBEDDING_BATCH = 64
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
