"""The /api/knowledge-base/{slug}/documents/ API: upload, type sniffing, listing, deletion."""

import pytest
from django.core.files.storage import storages

from knowledge.models import Document, DocumentChunk
from tests.helpers import make_docx, make_pdf, make_zip, upload, words

pytestmark = pytest.mark.django_db

DOCUMENT_KEYS = {
    "id",
    "file",
    "name",
    "file_type",
    "status",
    "progress",
    "chunk_count",
    "error",
    "created_at",
}
QUEUED = {
    "stage": "queued",
    "pages_done": 0,
    "pages_total": None,
    "chunks_done": 0,
    "chunks_total": None,
}


def documents_url(slug):
    return f"/api/knowledge-base/{slug}/documents/"


def document_url(slug, document_id):
    return f"/api/knowledge-base/{slug}/documents/{document_id}/"


@pytest.fixture
def post_document(auth_client, character, django_capture_on_commit_callbacks):
    """Upload as the owner and let the commit run its callbacks (processing, immediate here)."""

    def post(file, slug=character.slug, client=auth_client, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(documents_url(slug), {"file": file, **extra}, format="multipart")

    return post


def test_text_upload_is_pending_then_processed_with_known_chunk_count(post_document, auth_client):
    # 1200 tokens in chunks of 500 overlapping by 50 start at tokens 0, 450 and 900.
    response = post_document(upload("notes.txt", words(1200)))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == DOCUMENT_KEYS
    assert body["status"] == "PENDING"
    assert body["progress"] == QUEUED
    assert body["file_type"] == "txt"
    assert body["file"] == f"http://testserver{document_url('support-bot', body['id'])}file/"
    assert body["name"] == "notes.txt"

    document = auth_client.get(document_url("support-bot", body["id"])).json()
    assert document["status"] == "PROCESSED"
    assert document["chunk_count"] == 3
    assert document["progress"] == {
        "stage": "done",
        "pages_done": 1,
        "pages_total": 1,
        "chunks_done": 3,
        "chunks_total": 3,
    }
    assert document["error"] == ""
    chunks = list(DocumentChunk.objects.filter(document_id=body["id"]))
    assert [chunk.token_count for chunk in chunks] == [500, 500, 300]
    assert chunks[0].text.split()[-50:] == chunks[1].text.split()[:50]
    assert chunks[2].text.split()[-1] == "w1200"


def test_pdf_upload_is_processed(post_document):
    pages = [
        [words(10, start=line * 10 + 1) for line in range(page * 30, page * 30 + 30)]
        for page in range(2)
    ]
    response = post_document(upload("handbook.pdf", make_pdf(pages), "application/pdf"))

    assert response.status_code == 201, response.json()
    document = Document.objects.get(pk=response.json()["id"])
    assert (document.file_type, document.status, document.chunk_count) == ("pdf", "PROCESSED", 2)
    text = " ".join(document.chunks.values_list("text", flat=True))
    assert "w0001" in text and "w0600" in text


def test_docx_upload_is_processed_with_paragraphs_and_tables(post_document):
    content = make_docx(
        ["Refund policy", "Refunds are issued within 14 days."],
        table_rows=[("Plan", "Price"), ("Pro", "20 EUR")],
    )
    response = post_document(upload("policy.docx", content))

    assert response.status_code == 201, response.json()
    document = Document.objects.get(pk=response.json()["id"])
    assert (document.file_type, document.status, document.chunk_count) == ("docx", "PROCESSED", 1)
    chunk = document.chunks.get()
    assert (
        chunk.text == "Refund policy\nRefunds are issued within 14 days.\nPlan\tPrice\nPro\t20 EUR"
    )
    assert chunk.token_count == 13


@pytest.mark.parametrize(
    ("name", "content", "file_type"),
    [
        ("guide.md", "# Guide\n\nSome *markdown*.", "md"),
        ("GUIDE.MARKDOWN", "# Guide", "md"),
        ("notes", "no extension", "txt"),
        ("looks-like.pdf", "plain text with a misleading name", "txt"),
        ("looks-like.docx", "\ufeffUTF-8 with a byte-order mark, ünïcödé", "txt"),
        ("report.txt", make_pdf([["a pdf named .txt"]]), "pdf"),
        ("report.bin", make_docx(["a docx with any name"]), "docx"),
    ],
)
def test_type_is_decided_by_content(post_document, name, content, file_type):
    response = post_document(upload(name, content))

    assert response.status_code == 201, response.json()
    assert response.json()["file_type"] == file_type
    assert Document.objects.get().status == "PROCESSED"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty"),
        ("image.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "Upload a PDF"),
        ("latin1.txt", "caf\xe9".encode("latin-1"), "Upload a PDF"),
        ("nul.txt", b"text\x00with a NUL byte", "Upload a PDF"),
        ("archive.docx", make_zip({"hello.txt": "not a word document"}), "not a Word"),
        ("broken.docx", b"PK\x03\x04 truncated zip", "not a Word"),
    ],
)
def test_bad_uploads_are_400_naming_file(post_document, name, content, message):
    response = post_document(upload(name, content))

    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert message in response.json()["file"][0]
    assert not Document.objects.exists()


def test_file_past_the_size_limit_is_400(post_document, settings):
    settings.KNOWLEDGE_MAX_UPLOAD_BYTES = 100

    assert post_document(upload("ok.txt", "x" * 100)).status_code == 201
    response = post_document(upload("big.txt", "x" * 101))

    assert response.status_code == 400
    assert response.json() == {"file": ["The file is larger than the 100-byte limit."]}


def test_missing_file_and_unknown_fields_are_400(auth_client, post_document):
    response = auth_client.post(documents_url("support-bot"), {}, format="multipart")
    assert response.status_code == 400
    assert list(response.json()) == ["file"]

    response = auth_client.post(documents_url("support-bot"), {"file": "not a file"})
    assert response.status_code == 415

    response = post_document(upload("a.txt", "text"), title="typo")
    assert response.status_code == 400
    assert response.json() == {"title": ["Unknown field."]}
    assert not Document.objects.exists()


def test_corrupt_pdf_ends_failed_with_a_readable_error(post_document, auth_client):
    response = post_document(upload("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Cat"))

    assert response.status_code == 201
    document = auth_client.get(document_url("support-bot", response.json()["id"])).json()
    assert document["status"] == "FAILED"
    assert document["error"] == "The PDF could not be read; the file may be damaged."
    assert document["chunk_count"] == 0


def test_pdf_without_text_ends_failed(post_document):
    post_document(upload("scan.pdf", make_pdf([[]])))

    document = Document.objects.get()
    assert document.status == "FAILED"
    assert "no extractable text" in document.error


def test_list_is_a_plain_array_of_this_characters_documents(
    post_document, auth_client, make_character, user
):
    other_character = make_character(user, slug="sales-bot")
    first = post_document(upload("a.txt", "alpha")).json()
    second = post_document(upload("b.md", "beta")).json()
    post_document(upload("c.txt", "gamma"), slug=other_character.slug)

    response = auth_client.get(documents_url("support-bot"))

    assert response.status_code == 200
    assert [doc["id"] for doc in response.json()] == [first["id"], second["id"]]
    assert all(set(doc) == DOCUMENT_KEYS for doc in response.json())
    character = auth_client.get("/api/ai-characters/support-bot/").json()
    assert character["documents"] == response.json()


def test_other_users_slug_is_404_on_every_method(post_document, other_client, api_client):
    document_id = post_document(upload("secret.txt", "owner only")).json()["id"]

    assert other_client.get(documents_url("support-bot")).status_code == 404
    response = other_client.post(
        documents_url("support-bot"), {"file": upload("x.txt", "intruder")}, format="multipart"
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert other_client.get(document_url("support-bot", document_id)).status_code == 404
    assert other_client.delete(document_url("support-bot", document_id)).status_code == 404
    assert other_client.get(documents_url("no-such-character")).status_code == 404
    assert api_client.get(documents_url("support-bot")).status_code == 401
    assert list(Document.objects.values_list("id", flat=True)) == [document_id]


def test_document_of_another_character_is_404(post_document, auth_client, make_character, user):
    make_character(user, slug="sales-bot")
    document_id = post_document(upload("a.txt", "alpha")).json()["id"]

    assert auth_client.get(document_url("sales-bot", document_id)).status_code == 404
    assert auth_client.delete(document_url("sales-bot", document_id)).status_code == 404
    assert auth_client.get(document_url("support-bot", 999999)).status_code == 404


def test_delete_removes_file_and_chunks(
    post_document, auth_client, django_capture_on_commit_callbacks
):
    document_id = post_document(upload("a.txt", words(600))).json()["id"]
    name = Document.objects.get().file.name
    assert storages["private"].exists(name)
    assert DocumentChunk.objects.filter(document_id=document_id).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(document_url("support-bot", document_id))

    assert response.status_code == 204
    assert not Document.objects.exists()
    assert not DocumentChunk.objects.exists()
    assert not storages["private"].exists(name)
    assert auth_client.get(document_url("support-bot", document_id)).status_code == 404


def test_deleting_the_character_removes_document_files(
    post_document, auth_client, django_capture_on_commit_callbacks
):
    post_document(upload("a.txt", "alpha"))
    name = Document.objects.get().file.name

    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete("/api/ai-characters/support-bot/").status_code == 204

    assert not storages["private"].exists(name)
    assert not DocumentChunk.objects.exists()


def test_processing_is_queued_only_after_commit(
    auth_client, character, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = auth_client.post(
            documents_url("support-bot"), {"file": upload("a.txt", "alpha")}, format="multipart"
        )

    assert response.status_code == 201
    assert len(callbacks) == 1
    assert Document.objects.get().status == "PENDING"
    callbacks[0]()
    assert Document.objects.get().status == "PROCESSED"


def test_long_file_names_are_shortened_not_refused(post_document):
    response = post_document(upload("n" * 250 + ".txt", "text"))

    assert response.status_code == 201, response.json()
    name = Document.objects.get().file.name
    assert len(name) <= 255
    assert name.endswith(".txt")


def test_an_unavailable_queue_leaves_the_upload_pending(post_document, settings, caplog):
    settings.TASKS = {"default": {"BACKEND": "no.such.TaskBackend"}}

    response = post_document(upload("a.txt", "alpha"))

    assert response.status_code == 201
    assert Document.objects.get().status == "PENDING"
    assert "Error calling" in caplog.text
