"""Knowledge-base documents attached to a character, and the chunks they are split into."""

import uuid
from pathlib import PurePosixPath

from django.db import models

from oshara.storage import private_storage, with_extension


def document_upload_path(instance, filename):
    """An unguessable folder per upload, in the private storage (no URL serves it); the
    extension is the type detected from the content, never the client's."""
    name = with_extension(filename, instance.file_type or "bin")
    return f"documents/{uuid.uuid4().hex}/{name}"


class Document(models.Model):
    class FileType(models.TextChoices):
        PDF = "pdf", "PDF"
        DOCX = "docx", "Word (DOCX)"
        TXT = "txt", "Plain text"
        MD = "md", "Markdown"

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        PROCESSED = "PROCESSED", "Processed"
        FAILED = "FAILED", "Failed"

    class Stage(models.TextChoices):
        """Where processing is (knowledge/progress.py); a FAILED document keeps the stage it
        failed in."""

        QUEUED = "queued", "Queued"
        EXTRACTING = "extracting", "Extracting text"
        CHUNKING = "chunking", "Chunking"
        EMBEDDING = "embedding", "Embedding"
        DONE = "done", "Done"

    character = models.ForeignKey(
        "characters.Character", on_delete=models.CASCADE, related_name="documents"
    )
    file = models.FileField(upload_to=document_upload_path, storage=private_storage, max_length=255)
    file_type = models.CharField(max_length=8, choices=FileType.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    chunk_count = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True, default="")
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.QUEUED)
    # Counts of the current run; a total is null until it is known.
    pages_done = models.PositiveIntegerField(default=0)
    pages_total = models.PositiveIntegerField(null=True, blank=True)
    chunks_done = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.name

    @property
    def name(self):
        """The stored file's name, without its folder."""
        return PurePosixPath(self.file.name).name

    @property
    def content_type(self):
        return CONTENT_TYPES[self.file_type]


CONTENT_TYPES = {
    Document.FileType.PDF: "application/pdf",
    Document.FileType.DOCX: (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    Document.FileType.TXT: "text/plain; charset=utf-8",
    Document.FileType.MD: "text/markdown; charset=utf-8",
}


class DocumentChunk(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    text = models.TextField()
    token_count = models.PositiveIntegerField()
    # The PDF page the chunk comes from (1-based); other file types have no pages.
    page = models.PositiveIntegerField(null=True, blank=True)
    # Float32 values (knowledge/embeddings.py), and the model and size that wrote them: a
    # search compares only vectors of the configured model.
    embedding = models.BinaryField(null=True, blank=True)
    embedding_model = models.CharField(max_length=100, blank=True, default="")
    embedding_dimensions = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["document", "index"]
        constraints = [
            models.UniqueConstraint(fields=["document", "index"], name="unique_chunk_index"),
        ]

    def __str__(self):
        return f"{self.document_id}#{self.index}"


class WorkerHeartbeat(models.Model):
    """The last sign of life of each `manage.py db_worker` (knowledge/worker.py): a task left
    running by a worker unseen for TASK_WORKER_LEASE_SECONDS is run again."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.worker_id} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class SessionSearchKey(models.Model):
    """What a call session's search key may search, and until when (knowledge/session_keys.py).

    The key itself is never stored: it is the session id signed with SECRET_KEY. Written by
    the calls app (knowledge knows sessions only by their id).
    """

    session_id = models.CharField(primary_key=True, max_length=40)
    character = models.ForeignKey(
        "characters.Character", on_delete=models.CASCADE, related_name="session_search_keys"
    )
    expires_at = models.DateTimeField()

    def __str__(self):
        return self.session_id

    @property
    def throttle_ident(self):
        """The API rate throttle counts each session's searches apart."""
        return f"kb-session-{self.session_id}"
