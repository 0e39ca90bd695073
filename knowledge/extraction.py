"""Plain text out of a stored document: pypdf for PDF, python-docx for DOCX, UTF-8 otherwise."""

import logging
import zipfile

from django.conf import settings

from knowledge.models import Document

logger = logging.getLogger(__name__)


class ExtractionError(Exception):
    """The document cannot be turned into text; the message is shown to its owner."""


def extract_text(document):
    """The document's text (NUL characters removed: databases refuse them), or ExtractionError."""
    extractor = EXTRACTORS[document.file_type]
    try:
        with document.file.open("rb") as file:
            text = extractor(file)
    except ExtractionError:
        raise
    except FileNotFoundError:
        raise ExtractionError("The uploaded file is missing from storage.") from None
    except Exception:  # parsers raise many types on damaged input
        logger.warning("Could not read document %s", document.pk, exc_info=True)
        raise ExtractionError(UNREADABLE[document.file_type]) from None
    # NUL and unpaired surrogates (pypdf yields them from crafted fonts): no database or
    # UTF-8 encoder accepts them.
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if not text.strip():
        raise ExtractionError(NO_TEXT[document.file_type])
    return text


class TextLimit:
    """Collects extracted text and stops once it passes KNOWLEDGE_MAX_TEXT_CHARACTERS."""

    def __init__(self):
        self.limit = settings.KNOWLEDGE_MAX_TEXT_CHARACTERS
        self.parts = []
        self.size = 0

    def add(self, text):
        self.size += len(text)
        if self.size > self.limit:
            raise ExtractionError(
                f"The document holds more than {self.limit} characters of text; split it."
            )
        self.parts.append(text)


def pdf_text(file):
    from pypdf import PdfReader

    reader = PdfReader(file)
    if reader.is_encrypted and not reader.decrypt(""):
        raise ExtractionError("The PDF is password-protected; upload an unprotected copy.")
    text = TextLimit()
    for page in reader.pages:
        text.add(page.extract_text() or "")
    return "\n\n".join(text.parts)


def docx_text(file):
    import docx
    from docx.table import Table

    check_unzipped_size(file)
    text = TextLimit()
    for block in docx.Document(file).iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                text.add("\t".join(cell.text for cell in row.cells))
        else:
            text.add(block.text)
    return "\n".join(text.parts)


def check_unzipped_size(file):
    """Refuse a zip bomb before unpacking: Python's zipfile never inflates a member past the
    size its header declares, so the declared total bounds what python-docx can read."""
    limit = settings.KNOWLEDGE_MAX_UNZIPPED_BYTES
    with zipfile.ZipFile(file) as archive:
        total = sum(member.file_size for member in archive.infolist())
    file.seek(0)
    if total > limit:
        raise ExtractionError(
            f"The Word document unpacks to more than {limit} bytes; it may be damaged."
        )


def plain_text(file):
    try:
        return file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExtractionError("The file is not valid UTF-8 text.") from None


EXTRACTORS = {
    Document.FileType.PDF: pdf_text,
    Document.FileType.DOCX: docx_text,
    Document.FileType.TXT: plain_text,
    Document.FileType.MD: plain_text,
}
UNREADABLE = {
    Document.FileType.PDF: "The PDF could not be read; the file may be damaged.",
    Document.FileType.DOCX: "The Word document could not be read; the file may be damaged.",
    Document.FileType.TXT: "The text file could not be read.",
    Document.FileType.MD: "The Markdown file could not be read.",
}
NO_TEXT = {
    Document.FileType.PDF: "The PDF contains no extractable text (it may be a scanned image).",
    Document.FileType.DOCX: "The Word document contains no text.",
    Document.FileType.TXT: "The text file contains no text.",
    Document.FileType.MD: "The Markdown file contains no text.",
}
