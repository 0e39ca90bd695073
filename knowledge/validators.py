"""Decide an uploaded document's type from its bytes, shared by the API and the admin."""

import codecs
import zipfile
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError

from knowledge.models import Document

FileType = Document.FileType

# Acrobat accepts the header anywhere in the first kilobyte; so do we.
PDF_HEADER = b"%PDF-"
PDF_HEADER_WINDOW = 1024
ZIP_HEADER = b"PK\x03\x04"
DOCX_MAIN_PART = "word/document.xml"
MARKDOWN_EXTENSIONS = {".md", ".markdown"}

UNSUPPORTED_MESSAGE = "Upload a PDF, a Word (DOCX) document, or a UTF-8 text or Markdown file."


def detect_document_type(file):
    """The Document.FileType of an uploaded file, or a ValidationError saying why it is refused.

    The type comes from the content; the name only tells Markdown from plain text.
    """
    if not file.size:
        raise ValidationError("The submitted file is empty.", code="empty")
    limit = settings.KNOWLEDGE_MAX_UPLOAD_BYTES
    if file.size > limit:
        raise ValidationError(
            f"The file is larger than the {limit}-byte limit.", code="file_too_large"
        )
    try:
        file.seek(0)
        head = file.read(PDF_HEADER_WINDOW)
        if PDF_HEADER in head:
            return FileType.PDF
        if head.startswith(ZIP_HEADER):
            if is_docx(file):
                return FileType.DOCX
            raise ValidationError(
                "This ZIP archive is not a Word (DOCX) document.", code="unsupported_type"
            )
        if is_utf8_text(file):
            extension = PurePath(file.name or "").suffix.lower()
            return FileType.MD if extension in MARKDOWN_EXTENSIONS else FileType.TXT
        raise ValidationError(UNSUPPORTED_MESSAGE, code="unsupported_type")
    finally:
        file.seek(0)


def is_docx(file):
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            return DOCX_MAIN_PART in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def is_utf8_text(file):
    """Valid UTF-8 throughout, without NUL bytes (which no text file carries), read in chunks."""
    file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        for chunk in file.chunks():
            if "\x00" in decoder.decode(chunk):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
