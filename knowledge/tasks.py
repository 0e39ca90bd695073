"""Background processing of uploaded documents (Django's Tasks API, see settings.TASKS)."""

import logging

from django.conf import settings
from django.db import transaction

from characters import revisions
from knowledge.chunking import split_pages_into_chunks
from knowledge.embeddings import EmbeddingError
from knowledge.extraction import ExtractionError, extract_pages
from knowledge.indexing import embedding_fields
from knowledge.models import Document, DocumentChunk
from knowledge.progress import RESTARTED, embed_with_progress, report
from oshara import outbox

try:  # Django 6 ships the Tasks API; on 5.2 the django-tasks backport provides it.
    from django.tasks import task
except ImportError:
    from django_tasks import task

logger = logging.getLogger(__name__)

PROCESSING_FAILED = "The document could not be processed; upload it again or contact support."


class DocumentFailed(Exception):
    """Raised once the document is saved FAILED, so its task result says Failed too."""


def enqueue_processing(document_id):
    """Queue the document once the current transaction commits, so a worker always finds it.

    A queue that is down does not fail the committed request (robust): the error is logged
    and the document stays PENDING, from where the admin can re-queue it.
    """
    transaction.on_commit(lambda: process_document.enqueue(document_id), robust=True)


@task()
def process_document(document_id):
    """Extract, chunk, embed and store a document's text. Safe to run again: chunks are
    replaced. Every failure ends FAILED with a message for the owner, never PENDING."""
    try:
        document = Document.objects.get(pk=document_id)
    except Document.DoesNotExist:
        return "deleted"  # removed before a worker reached it
    try:
        report(document_id, Document.Stage.EXTRACTING, **RESTARTED)
        pages = extract_pages(document)
        report(document_id, Document.Stage.CHUNKING, pages_done=len(pages), pages_total=len(pages))
        chunks = split_pages_into_chunks(
            pages,
            settings.KNOWLEDGE_CHUNK_TOKENS,
            settings.KNOWLEDGE_CHUNK_OVERLAP_TOKENS,
        )
        report(document_id, Document.Stage.EMBEDDING, chunks_total=len(chunks))
        embedder, vectors = embed_with_progress(document_id, chunks)
        return save_result(
            document_id,
            status=Document.Status.PROCESSED,
            chunks=chunks,
            embeddings=[embedding_fields(embedder, vector) for vector in vectors],
        )
    except (ExtractionError, EmbeddingError) as exc:
        error = str(exc)
    except Exception:
        # Whatever went wrong (a database error, a bug), the document must not stay PENDING;
        # the owner sees why in general terms, the log has the details.
        logger.exception("Processing document %s failed", document_id)
        error = PROCESSING_FAILED
    if save_result(document_id, status=Document.Status.FAILED, error=error) == "deleted":
        return "deleted"
    raise DocumentFailed(error)


def save_result(document_id, *, status, chunks=(), embeddings=(), error=""):
    """Replace the document's chunks and set its status in one transaction."""
    with transaction.atomic():
        # Its character's revision first (characters/revisions.py: the character row is locked
        # before the document row, as a character delete does).
        revisions.bump_characters_of(Document.objects.filter(pk=document_id))
        # The row lock serialises concurrent runs for one document and spots a delete.
        if not Document.objects.select_for_update().filter(pk=document_id).exists():
            return "deleted"
        DocumentChunk.objects.filter(document_id=document_id).delete()
        DocumentChunk.objects.bulk_create(
            [
                DocumentChunk(
                    document_id=document_id,
                    index=chunk.index,
                    text=chunk.text,
                    token_count=chunk.token_count,
                    page=chunk.page,
                    **fields,
                )
                for chunk, fields in zip(chunks, embeddings, strict=True)
            ],
            batch_size=500,
        )
        done = {"stage": Document.Stage.DONE} if status == Document.Status.PROCESSED else {}
        Document.objects.filter(pk=document_id).update(
            status=status, chunk_count=len(chunks), chunks_done=len(chunks), error=error, **done
        )
        announce_result(document_id, status, len(chunks), error)
    logger.info("Document %s %s with %d chunks", document_id, status, len(chunks))
    return str(status)


def announce_result(document_id, status, chunk_count, error):
    """`document.processed` or `document.failed`, in the result's transaction."""
    character = Document.objects.filter(pk=document_id).values(
        "character__slug", "character__organization_id"
    )[0]
    processed = status == Document.Status.PROCESSED
    outcome = {"chunk_count": chunk_count} if processed else {"error": error}
    outbox.announce(
        outbox.Change(
            type="document.processed" if processed else "document.failed",
            organization_id=character["character__organization_id"],
            subject_type="document",
            subject_id=document_id,
            data={
                "id": str(document_id),
                "character_slug": character["character__slug"],
                **outcome,
            },
        )
    )
