"""Knowledge-base query: who may ask, what a bad request gets, and a model that fails."""

import importlib
import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from knowledge.models import Document, DocumentChunk
from tests.helpers import upload
from tests.knowledge_base import REFUND_POLICY

pytestmark = pytest.mark.django_db

QUERY_URL = "/api/knowledge-base/query/"
WORKER_KEY = "kb-worker-key-for-tests"


@pytest.fixture(autouse=True)
def _worker_key(settings):
    settings.KB_QUERY_API_KEY = WORKER_KEY


@pytest.fixture
def post_document(auth_client, character, django_capture_on_commit_callbacks):
    def post(file, slug=character.slug):
        with django_capture_on_commit_callbacks(execute=True):
            response = auth_client.post(
                f"/api/knowledge-base/{slug}/documents/", {"file": file}, format="multipart"
            )
        assert response.status_code == 201, response.json()
        return Document.objects.get(pk=response.json()["id"])

    return post


@pytest.fixture
def refund_document(post_document):
    return post_document(upload("refund-policy.txt", REFUND_POLICY))


def worker_client(key=WORKER_KEY):
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_X_API_KEY=key)
    return client


def ask(client, slug="support-bot", q="how do I get my money back", **params):
    return client.get(QUERY_URL, {"slug": slug, "q": q, **params})


# --- who may ask -----------------------------------------------------------------------------


def test_the_worker_key_searches_any_character(refund_document, make_character, other_user):
    make_character(other_user, slug="elsewhere")

    response = ask(worker_client())

    assert response.status_code == 200, response.json()
    assert response.json()[0]["metadata"]["source"] == "refund-policy.txt"
    assert ask(worker_client(), slug="elsewhere").json() == []


def test_someone_elses_slug_is_a_404_for_an_owner(refund_document, other_client):
    response = ask(other_client)

    assert response.status_code == 404
    assert "money" not in response.content.decode()


def test_an_unknown_slug_is_a_404(auth_client):
    assert ask(auth_client, slug="nobody").status_code == 404
    assert ask(worker_client(), slug="nobody").status_code == 404


@pytest.mark.parametrize(
    "key", [None, "", "wrong-key", WORKER_KEY + "x", WORKER_KEY[:-1], "clé-wrong"]
)
def test_without_a_valid_key_or_token_it_is_a_401(refund_document, key):
    response = ask(worker_client(key))

    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_an_unset_worker_key_admits_no_one(refund_document, settings):
    settings.KB_QUERY_API_KEY = ""

    assert ask(worker_client("")).status_code == 401


def test_the_worker_is_never_throttled_but_owners_are(
    refund_document, make_character, other_user, other_client, settings
):
    settings.API_THROTTLE_RATE = "2/minute"
    make_character(other_user, slug="elsewhere")
    worker = worker_client()

    assert [ask(worker).status_code for _ in range(4)] == [200] * 4
    assert [ask(other_client, slug="elsewhere").status_code for _ in range(3)] == [200, 200, 429]


def test_the_worker_key_opens_nothing_else(refund_document):
    response = worker_client().get("/api/knowledge-base/support-bot/documents/")

    assert response.status_code == 401


# --- bad requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"top_k": 0}, "top_k"),
        ({"top_k": 21}, "top_k"),
        ({"top_k": "five"}, "top_k"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 10_000}, "q"),
        ({"q": "money\x00back"}, "q"),
        ({"slug": ""}, "slug"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"slug": "a\x00b"}, "slug"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(refund_document, auth_client, params, field):
    response = ask(auth_client, **params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_an_empty_top_k_in_the_query_string_means_the_default(post_document, auth_client):
    for number in range(7):
        post_document(upload(f"note-{number}.txt", f"Note number {number} about refunds."))

    response = ask(auth_client, top_k="")

    assert (response.status_code, len(response.json())) == (200, 5)


@pytest.mark.parametrize("missing", ["slug", "q"])
def test_slug_and_q_are_required(auth_client, character, missing):
    params = {"slug": "support-bot", "q": "hello"}
    del params[missing]

    response = auth_client.get(QUERY_URL, params)

    assert response.status_code == 400
    assert response.json() == {missing: ["This field is required."]}


def test_post_refuses_unknown_keys_and_bodies_that_are_not_objects(auth_client, character):
    body = {"slug": "support-bot", "q": "hello", "topk": 3}

    unknown = auth_client.post(QUERY_URL, body, format="json")
    not_an_object = auth_client.post(QUERY_URL, ["hello"], format="json")
    bad_top_k = auth_client.post(QUERY_URL, {**body, "topk": None, "top_k": True}, format="json")

    assert (unknown.status_code, unknown.json()) == (400, {"topk": ["Unknown field."]})
    assert not_an_object.status_code == 400
    assert bad_top_k.status_code == 400


def test_post_takes_json_only(auth_client, character):
    response = auth_client.post(QUERY_URL, {"slug": "support-bot", "q": "hi"}, format="multipart")

    assert response.status_code == 415


def test_a_document_without_text_gives_no_chunks_and_no_error(post_document, auth_client):
    document = post_document(upload("empty.txt", "   \n\t "))

    assert document.status == "FAILED"
    response = ask(auth_client)
    assert (response.status_code, response.json()) == (200, [])


# --- a model that fails, and a model that changes ----------------------------------------------


@pytest.mark.parametrize(
    "backend", ["tests.embedders.BrokenEmbedder", "tests.embedders.WrongShapeEmbedder"]
)
def test_a_document_that_fails_to_embed_ends_failed_with_a_readable_error(
    post_document, settings, backend
):
    settings.KNOWLEDGE_EMBEDDING_BACKEND = backend

    document = post_document(upload("refund-policy.txt", REFUND_POLICY))

    document.refresh_from_db()
    assert (document.status, document.chunk_count) == ("FAILED", 0)
    assert document.error == (
        "The document could not be indexed for search; upload it again later."
    )
    assert not DocumentChunk.objects.exists()


def test_a_query_while_the_model_fails_is_a_503(refund_document, auth_client, settings):
    settings.KNOWLEDGE_EMBEDDING_BACKEND = "tests.embedders.BrokenEmbedder"

    response = ask(auth_client)

    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]


def test_after_a_model_change_embed_chunks_rewrites_every_vector(
    refund_document, post_document, auth_client, settings
):
    post_document(upload("hours.txt", "We are open from 9 am to 6 pm, Monday to Friday."))
    settings.KNOWLEDGE_EMBEDDING_BACKEND = "tests.embedders.LetterEmbedder"

    assert ask(auth_client).json() == []  # old vectors are never compared with new ones

    output = io.StringIO()
    call_command("embed_chunks", stdout=output)

    assert output.getvalue() == "Embedded 2 chunks with letters/26.\n"

    assert set(DocumentChunk.objects.values_list("embedding_model", "embedding_dimensions")) == {
        ("letters/26", 26)
    }
    assert len(ask(auth_client, top_k=20).json()) == 2
    assert all(
        len(bytes(blob)) == 26 * 4
        for blob in DocumentChunk.objects.values_list("embedding", flat=True)
    )


def test_embed_chunks_fails_cleanly_when_the_model_does(refund_document, settings):
    settings.KNOWLEDGE_EMBEDDING_BACKEND = "tests.embedders.BrokenEmbedder"

    with pytest.raises(CommandError, match="embedding model failed"):
        call_command("embed_chunks")

    assert DocumentChunk.objects.get().embedding_model == "wordllama/l2_supercat_256"


def test_chunks_stored_before_search_are_embedded_by_the_migration(refund_document, auth_client):
    from django.apps import apps

    DocumentChunk.objects.update(embedding=None, embedding_model="", embedding_dimensions=0)
    assert ask(auth_client).json() == []

    migration = importlib.import_module("knowledge.migrations.0004_embed_existing_chunks")
    migration.embed_existing_chunks(apps, schema_editor=None)

    chunk = DocumentChunk.objects.get()
    assert (chunk.embedding_model, chunk.embedding_dimensions) == ("wordllama/l2_supercat_256", 256)
    assert ask(auth_client).json()[0]["metadata"]["source"] == "refund-policy.txt"
