"""Document processing: chunking rules, idempotent re-runs, and the admin's re-queue."""

import io

import pytest
from django.core.files.base import ContentFile

from knowledge.chunking import split_into_chunks
from knowledge.models import Document, DocumentChunk
from knowledge.tasks import DocumentFailed, process_document
from tests.helpers import make_pdf, upload, words


@pytest.mark.parametrize(
    ("tokens", "expected_counts"),
    [(0, []), (1, [1]), (500, [500]), (501, [500, 51]), (950, [500, 500]), (951, [500, 500, 51])],
)
def test_chunk_sizes(tokens, expected_counts):
    chunks = split_into_chunks(words(tokens), size=500, overlap=50)

    assert [chunk.token_count for chunk in chunks] == expected_counts
    assert [chunk.index for chunk in chunks] == list(range(len(expected_counts)))
    assert [len(chunk.text.split()) for chunk in chunks] == expected_counts


def test_chunks_keep_the_original_spacing_and_overlap():
    text = "  alpha beta\n\ngamma\tdelta  epsilon \n"

    chunks = split_into_chunks(text, size=3, overlap=1)

    assert [chunk.text for chunk in chunks] == ["alpha beta\n\ngamma", "gamma\tdelta  epsilon"]
    assert split_into_chunks(" \n\t ", size=3, overlap=1) == []


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_chunking_refuses_an_overlap_that_would_not_advance(size, overlap):
    with pytest.raises(ValueError, match="overlap"):
        split_into_chunks("a b c", size=size, overlap=overlap)


@pytest.fixture
def make_document(character):
    def make(name, content, file_type, **fields):
        document = Document(character=character, file_type=file_type, **fields)
        document.file.save(name, ContentFile(content), save=True)
        return document

    return make


def test_reprocessing_is_idempotent(make_document, settings):
    settings.KNOWLEDGE_CHUNK_TOKENS = 100
    settings.KNOWLEDGE_CHUNK_OVERLAP_TOKENS = 10
    document = make_document("notes.txt", words(250).encode(), "txt")

    assert process_document.call(document.pk) == "PROCESSED"
    first_run = list(DocumentChunk.objects.values_list("index", "text", "token_count"))
    assert process_document.call(document.pk) == "PROCESSED"
    second_run = list(DocumentChunk.objects.values_list("index", "text", "token_count"))

    assert len(first_run) == 3
    assert second_run == first_run
    document.refresh_from_db()
    assert (document.status, document.chunk_count) == ("PROCESSED", 3)


def test_reprocessing_a_failed_document_clears_stale_chunks(make_document):
    document = make_document("a.pdf", b"%PDF-1.4 damaged", "pdf", status="PROCESSED")
    DocumentChunk.objects.create(document=document, index=0, text="stale", token_count=1)

    with pytest.raises(DocumentFailed):  # the task's result says Failed too
        process_document.call(document.pk)

    document.refresh_from_db()
    assert (document.status, document.chunk_count) == ("FAILED", 0)
    assert not document.chunks.exists()


def test_missing_file_fails_with_a_readable_error(make_document):
    document = make_document("gone.txt", b"text", "txt")
    document.file.storage.delete(document.file.name)

    with pytest.raises(DocumentFailed, match="missing from storage"):
        process_document.call(document.pk)

    document.refresh_from_db()
    assert document.status == "FAILED"
    assert document.error == "The uploaded file is missing from storage."


def test_processing_a_deleted_document_does_nothing(make_document):
    document = make_document("a.txt", b"text", "txt")
    document_id = document.pk
    Document.objects.filter(pk=document_id).delete()

    assert process_document.call(document_id) == "deleted"
    assert not DocumentChunk.objects.exists()


def test_nul_characters_are_dropped_from_extracted_text(make_document):
    document = make_document("a.pdf", make_pdf([["before\x00after"]]), "pdf")

    process_document.call(document.pk)

    assert document.chunks.get().text == "beforeafter"


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("admin@example.com", is_staff=True, is_superuser=True))
    return client


def test_admin_requeues_failed_and_pending_documents(
    admin_client, make_document, django_capture_on_commit_callbacks
):
    failed = make_document("fixed.txt", b"now readable", "txt", status="FAILED", error="Oops.")
    stuck = make_document("stuck.txt", b"lost task", "txt", status="PENDING")
    processed = make_document("done.txt", b"done", "txt", status="PROCESSED", chunk_count=7)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            "/admin/knowledge/document/",
            {"action": "requeue", "_selected_action": [failed.pk, stuck.pk, processed.pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert len(callbacks) == 2
    messages = [str(message) for message in response.context["messages"]]
    assert "2 documents re-queued." in messages
    assert "1 processed document skipped." in messages
    for document in (failed, stuck, processed):
        document.refresh_from_db()
    assert (failed.status, failed.error, failed.chunk_count) == ("PROCESSED", "", 1)
    assert (stuck.status, stuck.chunk_count) == ("PROCESSED", 1)
    assert (processed.status, processed.chunk_count) == ("PROCESSED", 7)


def test_admin_lists_and_filters_documents(admin_client, make_document):
    make_document("broken.pdf", b"%PDF-", "pdf", status="FAILED", error="Unreadable.")
    make_document("fine.txt", b"fine", "txt", status="PROCESSED")

    response = admin_client.get("/admin/knowledge/document/", {"status__exact": "FAILED"})

    assert response.status_code == 200
    assert b"broken.pdf" in response.content
    assert b"fine.txt" not in response.content


def test_admin_upload_checks_content_and_queues_processing(
    admin_client, character, django_capture_on_commit_callbacks
):
    response = admin_client.post(
        "/admin/knowledge/document/add/",
        {"character": character.pk, "file": upload("fake.pdf", b"\x89PNG\r\n\x1a\n\x00")},
    )
    assert response.status_code == 200
    assert "Upload a PDF" in str(response.context["adminform"].form.errors["file"])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/knowledge/document/add/",
            {"character": character.pk, "file": upload("faq.md", "# FAQ\n\nAnswers.")},
        )
    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.file_type, document.status, document.chunk_count) == ("md", "PROCESSED", 1)


def test_password_protected_pdf_fails_with_a_readable_error(make_document):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["top secret"]]))))
    writer.encrypt(user_password="secret", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    document = make_document("locked.pdf", buffer.getvalue(), "pdf")

    with pytest.raises(DocumentFailed):
        process_document.call(document.pk)

    document.refresh_from_db()
    assert document.error == "The PDF is password-protected; upload an unprotected copy."
