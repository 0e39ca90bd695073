"""Plain text out of a stored document: pypdf for PDF (page by page), python-docx for DOCX,
UTF-8 otherwise."""

import logging
import posixpath
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

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


# A member this much larger unpacked than packed is a zip bomb (DOCX markup packs 3-30x);
# checked from this size up, where a ratio means something.
ZIP_BOMB_RATIO = 100
ZIP_BOMB_MIN_BYTES = 1024 * 1024
# [Content_Types].xml names a handful of types: a few KiB in any real document.
CONTENT_TYPES_MAX_BYTES = 256 * 1024


def check_unzipped_size(file):
    """Refuse a DOCX that would exhaust the worker's memory, from the zip's directory alone,
    before anything is unpacked: python-docx loads every part and parses each XML part whole
    (about 18 bytes of memory per byte of markup), before any text limit can apply.

    Python's zipfile never inflates a member past the size its header declares, so the
    declared sizes bound what python-docx can read. The markup is every part [Content_Types]
    .xml calls XML, whatever its name, plus the relationships."""
    with zipfile.ZipFile(file) as archive:
        members = archive.infolist()
        unpacked = sum(member.file_size for member in members)
        if unpacked > settings.KNOWLEDGE_MAX_UNZIPPED_BYTES:
            raise ExtractionError(
                f"The Word document unpacks to more than {settings.KNOWLEDGE_MAX_UNZIPPED_BYTES}"
                " bytes; it may be damaged."
            )
        for member in members:
            if member.file_size >= ZIP_BOMB_MIN_BYTES and member.file_size > (
                ZIP_BOMB_RATIO * max(member.compress_size, 1)
            ):
                raise ExtractionError(
                    f"The Word document is compressed more than {ZIP_BOMB_RATIO} times over;"
                    " it may be damaged."
                )
        types = content_types(archive)
        markup = sum(member.file_size for member in members if is_markup(member.filename, types))
    file.seek(0)
    if markup > settings.KNOWLEDGE_MAX_DOCX_MARKUP_BYTES:
        raise ExtractionError(
            f"The Word document holds more than {settings.KNOWLEDGE_MAX_DOCX_MARKUP_BYTES} bytes"
            " of text and formatting; split it."
        )


def is_markup(name, types):
    name = name.lower()  # part names are case-insensitive (OPC)
    if name == CONTENT_TYPES.lower() or name.endswith(".rels"):
        return True
    extension = posixpath.splitext(name)[1].lstrip(".")
    content_type = types["overrides"].get(name, types["defaults"].get(extension, ""))
    return "xml" in content_type


CONTENT_TYPES = "[Content_Types].xml"
CONTENT_TYPES_NAMESPACE = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def content_types(archive):
    """The package's content types: by extension and by part name."""
    member = archive.getinfo(CONTENT_TYPES)  # KeyError: not a Word document
    if member.file_size > CONTENT_TYPES_MAX_BYTES:
        raise ExtractionError(UNREADABLE[Document.FileType.DOCX])
    root = ElementTree.fromstring(archive.read(member))
    return {
        "defaults": {
            item.get("Extension", "").lower(): item.get("ContentType", "")
            for item in root.iter(f"{CONTENT_TYPES_NAMESPACE}Default")
        },
        "overrides": {
            item.get("PartName", "").lstrip("/").lower(): item.get("ContentType", "")
            for item in root.iter(f"{CONTENT_TYPES_NAMESPACE}Override")
        },
    }


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
