"""Writes of the knowledge base that start elsewhere: a duplicated character's documents
(registered with characters.contributions.on_duplicate() in apps.py)."""

from pathlib import PurePath

from django.core.files.base import ContentFile

from knowledge.models import Document, DocumentChunk
from knowledge.tasks import enqueue_processing

# What a processed or failed document's copy keeps as it is: its result and last progress.
KEPT = (
    "file_type",
    "status",
    "chunk_count",
    "error",
    "stage",
    "pages_done",
    "pages_total",
    "chunks_done",
    "chunks_total",
    "progress_at",
)
CHUNK_FIELDS = (
    "index",
    "text",
    "token_count",
    "page",
    "embedding",
    "embedding_model",
    "embedding_dimensions",
)


def copy_documents(source, duplicate):
    """Give `duplicate` a copy of every document of `source`, each with a file of its own (a
    shared one would vanish with whichever document is deleted first). A processed one keeps
    its chunks and their embeddings, copied in bulk: the copy is searchable at once, with no
    reprocessing. One still being processed is processed again for the copy."""
    copies = {}
    for document in Document.objects.filter(character=source):
        pending = document.status == Document.Status.PENDING
        kept = ("file_type",) if pending else KEPT
        copy = Document(character=duplicate, **{name: getattr(document, name) for name in kept})
        with document.file.open("rb") as handle:
            copy.file = ContentFile(handle.read(), name=PurePath(document.file.name).name)
        copy.save()  # stores the file under a folder of its own
        copies[document.pk] = copy
        if pending:
            enqueue_processing(copy.pk)
    processed = [pk for pk, copy in copies.items() if copy.status == Document.Status.PROCESSED]
    chunks = DocumentChunk.objects.filter(document_id__in=processed).values_list(
        "document_id", *CHUNK_FIELDS
    )
    DocumentChunk.objects.bulk_create(
        (
            DocumentChunk(
                document=copies[document_id], **dict(zip(CHUNK_FIELDS, values, strict=True))
            )
            for document_id, *values in chunks
        ),
        batch_size=500,
    )
