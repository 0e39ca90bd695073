"""Plain text out of a stored document: pypdf for PDF (page by page), python-docx for DOCX,
UTF-8 otherwise."""

import logging
from dataclasses import dataclass

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

    NUL characters are removed: databases refuse them.
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
    pages = [Page(page.number, page.text.replace("\x00", "")) for page in pages]
    if not any(page.text.strip() for page in pages):
        raise ExtractionError(NO_TEXT[document.file_type])
    return pages


def pdf_text(file):
    from pypdf import PdfReader

    reader = PdfReader(file)
    if reader.is_encrypted and not reader.decrypt(""):
        raise ExtractionError("The PDF is password-protected; upload an unprotected copy.")
    return [Page(number, page.extract_text() or "") for number, page in enumerate(reader.pages, 1)]


def docx_text(file):
    import docx
    from docx.table import Table

    parts = []
    for block in docx.Document(file).iter_inner_content():
        if isinstance(block, Table):
            parts.extend("\t".join(cell.text for cell in row.cells) for row in block.rows)
        else:
            parts.append(block.text)
    return [Page(None, "\n".join(parts))]


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
