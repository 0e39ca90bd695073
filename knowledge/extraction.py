"""Plain text out of a stored document: pypdf for PDF (page by page), python-docx for DOCX,
UTF-8 otherwise."""

import logging
import zipfile
from dataclasses import dataclass

from django.conf import settings

from knowledge.models import Document

logger = logging.getLogger(__name__)


class ExtractionError(Exception):
    """The document cannot be turned into text; the message is shown to its owner."""


@dataclass(frozen=True)
class Page:
    number: int | None  # 1-based for a PDF; None for a file type without pages
    text: str


def extract_pages(document):
    """The document's text page by page (one page for files without pages), or ExtractionError.

    NUL characters and unpaired surrogates are removed: no database or UTF-8 encoder accepts
    them (pypdf yields them from crafted fonts).
    """
    extractor = EXTRACTORS[document.file_type]
    try:
        with document.file.open("rb") as file:
            pages = extractor(file)
    except ExtractionError:
        raise
    except FileNotFoundError:
        raise ExtractionError("The uploaded file is missing from storage.") from None
    except Exception:  # parsers raise many types on damaged input
        logger.warning("Could not read document %s", document.pk, exc_info=True)
        raise ExtractionError(UNREADABLE[document.file_type]) from None
    pages = [Page(page.number, clean(page.text)) for page in pages]
    if not any(page.text.strip() for page in pages):
        raise ExtractionError(NO_TEXT[document.file_type])
    return pages


def clean(text):
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


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
        return text


def pdf_text(file):
    from pypdf import PdfReader

    reader = PdfReader(file)
    if reader.is_encrypted and not reader.decrypt(""):
        raise ExtractionError("The PDF is password-protected; upload an unprotected copy.")
    text = TextLimit()
    pages = []
    for number, page in enumerate(reader.pages, 1):
        pages.append(Page(number, text.add(page.extract_text() or "")))
    return pages


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
    return [Page(None, "\n".join(text.parts))]


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
        return [Page(None, file.read().decode("utf-8-sig"))]
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
