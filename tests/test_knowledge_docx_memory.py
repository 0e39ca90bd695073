"""A hostile DOCX cannot exhaust the worker: its zip directory is checked before python-docx
parses anything (knowledge/extraction.py), and the memory one document costs is measured in
a process of its own against the documented ceiling (docs/knowledge.md)."""

import io
import json
import random
import string
import zipfile

import pytest

from knowledge.models import Document
from tests.helpers import make_docx, run_python, upload

MiB = 1024 * 1024
# docs/knowledge.md: extracting one document grows the worker by under 256 MiB at the defaults.
MEMORY_CEILING_MIB = 256
# What a refused document may cost: the zip's directory and [Content_Types].xml, no parsing.
REFUSED_MIB = 16


def paragraphs_docx(markup_bytes, *, text=lambda: "a", part="word/document.xml"):
    """A real DOCX whose body is `markup_bytes` of one-run paragraphs: the densest XML for
    python-docx, as many elements per byte as a paragraph can hold. `part` renames the body
    (its relationship and content type follow), as an attacker hiding it would."""
    buffer = io.BytesIO(make_docx(["x"]))
    out = io.BytesIO()
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            data = source.read(member).decode("utf-8", "surrogateescape")
            name = member.filename
            if name == "word/document.xml":
                head = data[: data.index("<w:body>")]
                body, size = [], 0
                while size < markup_bytes:
                    paragraph = f"<w:p><w:r><w:t>{text()}</w:t></w:r></w:p>"
                    body.append(paragraph)
                    size += len(paragraph)
                data, name = f"{head}<w:body>{''.join(body)}</w:body></w:document>", part
            elif part != "word/document.xml" and name in ("_rels/.rels", "[Content_Types].xml"):
                data = data.replace("word/document.xml", part)
            target.writestr(name, data.encode("utf-8", "surrogateescape"))
    return out.getvalue()


def random_letter():
    """One letter per paragraph: packs about 25 times, under the zip-bomb ratio, and is the
    most elements per byte measured (87 MiB for 7 MiB of markup, 2026-12-04)."""
    return random.choice(string.ascii_lowercase)


MEASURE = """
import json, resource, sys
import django
django.setup()
from knowledge.extraction import ExtractionError, docx_text
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    with open(sys.argv[1], "rb") as file:
        outcome = len(docx_text(file)[0].text)
except ExtractionError as error:
    outcome = str(error)
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"outcome": outcome, "grown_mib": grown}))
"""


def extract_in_a_process(tmp_path, content):
    path = tmp_path / "hostile.docx"
    path.write_bytes(content)
    result = run_python(f"import sys; sys.argv[1:] = [{str(path)!r}]\n{MEASURE}")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_small_docx_of_40_mib_of_paragraphs_is_refused_before_parsing(tmp_path):
    hostile = paragraphs_docx(40 * MiB)
    assert len(hostile) < 400 * 1024  # the size of the file: it passes any upload limit
    measured = extract_in_a_process(tmp_path, hostile)
    assert "it may be damaged" in measured["outcome"] or "split it" in measured["outcome"]
    assert measured["grown_mib"] < REFUSED_MIB, measured


def test_the_largest_docx_accepted_stays_under_the_memory_ceiling(tmp_path, settings):
    random.seed(28)
    bound = settings.KNOWLEDGE_MAX_DOCX_MARKUP_BYTES
    largest = paragraphs_docx(bound - 1024 * 1024, text=random_letter)  # the template's rest
    with zipfile.ZipFile(io.BytesIO(largest)) as archive:
        assert sum(m.file_size for m in archive.infolist()) <= bound
    measured = extract_in_a_process(tmp_path, largest)
    assert isinstance(measured["outcome"], int), measured  # parsed: the text came out
    assert measured["grown_mib"] < MEMORY_CEILING_MIB, measured


def test_markup_hidden_under_an_image_name_still_counts(tmp_path, settings):
    settings.KNOWLEDGE_MAX_DOCX_MARKUP_BYTES = 2 * MiB
    hidden = paragraphs_docx(3 * MiB, text=random_letter, part="word/media/image1.png")
    from knowledge.extraction import docx_text

    with pytest.raises(Exception, match="more than 2097152 bytes of text and formatting"):
        docx_text(io.BytesIO(hidden))


@pytest.mark.django_db
def test_a_docx_bomb_upload_ends_failed_with_a_readable_error(
    auth_client, character, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(
            f"/api/knowledge-base/{character.slug}/documents/",
            {"file": upload("bomb.docx", paragraphs_docx(40 * MiB))},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    document = Document.objects.get(pk=response.json()["id"])
    assert (document.status, document.chunk_count) == ("FAILED", 0)
    assert document.error == (
        "The Word document is compressed more than 100 times over; it may be damaged."
    )
