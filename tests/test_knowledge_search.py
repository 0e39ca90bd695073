"""Knowledge-base search through HTTP: upload, processing, then /api/knowledge-base/query/."""

import pytest

from knowledge.models import Document, DocumentChunk
from tests.helpers import make_pdf, upload, words
from tests.knowledge_base import QUESTIONS, REFUND_POLICY, knowledge_base_files

pytestmark = pytest.mark.django_db

QUERY_URL = "/api/knowledge-base/query/"
WORKER_KEY = "kb-worker-key-for-tests"


@pytest.fixture(autouse=True)
def _worker_key(settings):
    settings.KB_QUERY_API_KEY = WORKER_KEY


@pytest.fixture
def post_document(auth_client, character, django_capture_on_commit_callbacks):
    """Upload as the owner; processing runs when the request commits (immediate tasks)."""

    def post(file, slug=character.slug, client=auth_client):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/api/knowledge-base/{slug}/documents/", {"file": file}, format="multipart"
            )
        assert response.status_code == 201, response.json()
        return response.json()

    return post


@pytest.fixture
def shop(post_document):
    """The small shop's knowledge base, every document processed."""
    for file in knowledge_base_files():
        post_document(file)
    assert set(Document.objects.values_list("status", flat=True)) == {"PROCESSED"}


def query(client, slug="support-bot", **params):
    return client.get(QUERY_URL, {"slug": slug, **params})


@pytest.mark.parametrize(("question", "source", "page"), QUESTIONS)
def test_natural_questions_put_the_answer_first(shop, auth_client, question, source, page):
    response = query(auth_client, q=question)

    assert response.status_code == 200, response.json()
    best = response.json()[0]
    assert best["metadata"] == {"source": source, "page": page}, [
        passage["metadata"] for passage in response.json()
    ]


def test_answer_is_passages_best_first_with_source_and_page(shop, auth_client):
    response = query(auth_client, q="how do I get my money back", top_k=3)

    assert response.status_code == 200
    passages = response.json()
    assert len(passages) == 3
    assert passages[0] == {
        "text": REFUND_POLICY,
        "metadata": {"source": "refund-policy.txt", "page": None},
    }
    for passage in passages:
        assert set(passage) == {"text", "metadata"}
        assert set(passage["metadata"]) == {"source", "page"}


def test_top_k_defaults_to_five_and_caps_at_the_chunk_count(shop, auth_client):
    assert len(query(auth_client, q="headphones").json()) == 5
    assert len(query(auth_client, q="headphones", top_k=20).json()) == 7  # 6 files, 7 pages
    assert len(query(auth_client, q="headphones", top_k=1).json()) == 1


def test_post_takes_the_same_keys_as_json(shop, auth_client):
    params = {"slug": "support-bot", "q": "when are you open on Saturday", "top_k": 2}

    posted = auth_client.post(QUERY_URL, params, format="json")

    assert posted.status_code == 200, posted.json()
    assert posted.json() == auth_client.get(QUERY_URL, params).json()
    assert posted.json()[0]["metadata"]["source"] == "opening-hours.md"


def test_pdf_passages_name_their_page(post_document, auth_client):
    pages = [[words(10, start=line * 10 + 1) for line in range(3)] for _ in range(2)]
    pages.append(["Refunds are paid back to your card within five days."])
    post_document(upload("handbook.pdf", make_pdf(pages)))

    chunks = DocumentChunk.objects.order_by("index")
    assert list(chunks.values_list("index", "page")) == [(0, 1), (1, 2), (2, 3)]
    best = query(auth_client, q="how do I get my money back").json()[0]
    assert best["metadata"] == {"source": "handbook.pdf", "page": 3}


def test_each_chunk_stores_its_model_and_a_compact_unit_vector(shop):
    import numpy as np

    for chunk in DocumentChunk.objects.all():
        assert chunk.embedding_model == "wordllama/l2_supercat_256"
        assert chunk.embedding_dimensions == 256
        vector = np.frombuffer(bytes(chunk.embedding), dtype="<f4")
        assert vector.shape == (256,)
        assert np.linalg.norm(vector) == pytest.approx(1, abs=1e-5)


def test_a_character_without_processed_documents_answers_an_empty_list(auth_client, character):
    response = query(auth_client, q="anything")

    assert response.status_code == 200
    assert response.json() == []


def test_only_processed_documents_count_and_a_status_change_is_seen_at_once(
    shop, auth_client, character
):
    refund = Document.objects.get(file__endswith="refund-policy.txt")
    assert query(auth_client, q="money back").json()[0]["metadata"]["source"] == (
        "refund-policy.txt"
    )

    refund.status = Document.Status.PENDING
    refund.save()

    sources = [p["metadata"]["source"] for p in query(auth_client, q="money back", top_k=20).json()]
    assert "refund-policy.txt" not in sources
    assert len(sources) == 6


def test_a_deleted_document_is_gone_from_the_next_answer(shop, auth_client):
    refund = Document.objects.get(file__endswith="refund-policy.txt")
    assert query(auth_client, q="money back").json()[0]["metadata"]["source"] == (
        "refund-policy.txt"
    )

    response = auth_client.delete(f"/api/knowledge-base/support-bot/documents/{refund.pk}/")

    assert response.status_code == 204
    sources = [p["metadata"]["source"] for p in query(auth_client, q="money back", top_k=20).json()]
    assert "refund-policy.txt" not in sources
    assert not DocumentChunk.objects.filter(document_id=refund.pk).exists()


def test_a_new_upload_is_found_by_the_next_query(shop, auth_client, post_document):
    assert query(auth_client, q="can I bring my dog").json()[0]["metadata"]["source"] != (
        "pets.txt"
    )

    post_document(upload("pets.txt", "Pets: dogs on a leash are welcome in our store."))

    assert query(auth_client, q="can I bring my dog").json()[0]["metadata"]["source"] == (
        "pets.txt"
    )


def test_characters_see_only_their_own_documents(
    shop, auth_client, make_character, user, post_document
):
    make_character(user, slug="sales-bot")
    post_document(upload("pricing.txt", "The Pro plan costs 20 euros a month."), slug="sales-bot")

    support = query(auth_client, q="price of the pro plan", top_k=20).json()
    sales = query(auth_client, slug="sales-bot", q="how do I get my money back").json()

    assert "pricing.txt" not in {p["metadata"]["source"] for p in support}
    assert [p["metadata"]["source"] for p in sales] == ["pricing.txt"]
