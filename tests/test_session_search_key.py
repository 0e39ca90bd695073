"""The session search key (issue 28.4, 29.3): what the runtime hands the voice worker as
`kb_query_api_key`. It searches only the session's character, `slug` may be left out (the
platform's `?q=&top_k=`), it stops working an hour after the report, and it is not stored."""

from datetime import timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient

from calls.models import CallSession
from knowledge.models import SessionSearchKey
from tests.helpers import report_url, runtime_url, started, upload, worker_client
from tests.knowledge_base import REFUND_POLICY

pytestmark = pytest.mark.usefixtures("calls_settings")

QUERY_URL = "/api/knowledge-base/query/"
SERVICE_KEY = "kb-service-wide-key-0123456789abcdef"


@pytest.fixture
def shop_documents(auth_client, widget_character, django_capture_on_commit_callbacks):
    """shop-helper (the widget's character) with its refund policy processed."""
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(
            "/api/knowledge-base/shop-helper/documents/",
            {"file": upload("refund-policy.txt", REFUND_POLICY)},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    return widget_character


@pytest.fixture
def other_character(make_character, user, django_capture_on_commit_callbacks, auth_client):
    """Another character of the same owner, with a knowledge base of its own."""
    character = make_character(user, slug="other-bot")
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.post(
            "/api/knowledge-base/other-bot/documents/",
            {"file": upload("secret.txt", "The vault code of the other bot is 4711.")},
            format="multipart",
        )
    return character


def session_key(api_client):
    """A session of shop-helper and the search key its runtime hands out."""
    session_id = started(api_client, "shop-helper")
    runtime = worker_client().get(runtime_url(session_id)).json()
    return session_id, runtime["kb_query_api_key"]


def client_with(key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client


def test_the_key_searches_its_sessions_character_without_a_slug(api_client, shop_documents):
    _, key = session_key(api_client)
    response = client_with(key).get(QUERY_URL, {"q": "how do I get my money back", "top_k": 1})
    assert response.status_code == 200, response.content
    assert response.json() == [
        {"text": REFUND_POLICY, "metadata": {"source": "refund-policy.txt", "page": None}}
    ]
    posted = client_with(key).post(QUERY_URL, {"q": "how do I get my money back", "top_k": 1})
    assert posted.json() == response.json()
    # Its own slug is accepted too (the runtime's kb tools send it).
    named = client_with(key).get(QUERY_URL, {"slug": "shop-helper", "q": "refund", "top_k": 1})
    assert named.json() == response.json()


def test_the_key_searches_no_other_character(api_client, shop_documents, other_character):
    _, key = session_key(api_client)
    response = client_with(key).get(QUERY_URL, {"slug": "other-bot", "q": "vault code"})
    assert response.status_code == 404
    passages = client_with(key).get(QUERY_URL, {"q": "vault code", "top_k": 20}).json()
    assert all("4711" not in passage["text"] for passage in passages)


def test_the_key_opens_nothing_else(api_client, shop_documents):
    _, key = session_key(api_client)
    client = client_with(key)
    assert client.get("/api/ai-characters/").status_code == 401
    assert client.get("/api/knowledge-base/shop-helper/documents/").status_code == 401
    assert client.get("/api/billing/usage/").status_code == 401


def test_each_fetch_hands_out_the_same_working_key(api_client, shop_documents):
    session_id, key = session_key(api_client)
    again = worker_client().get(runtime_url(session_id)).json()["kb_query_api_key"]
    assert again == key
    assert client_with(again).get(QUERY_URL, {"q": "refund"}).status_code == 200


def test_the_key_is_not_stored(api_client, shop_documents):
    session_id, key = session_key(api_client)
    signature = key.rsplit(":", 1)[1]
    with connection.cursor() as cursor:
        for model in (SessionSearchKey, CallSession):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")
            assert signature not in repr(cursor.fetchall())
    assert SessionSearchKey.objects.get(pk=session_id).character_id == shop_documents.pk


def test_the_key_stops_an_hour_after_the_report(api_client, shop_documents):
    session_id, key = session_key(api_client)
    assert worker_client().post(report_url(session_id), {}).status_code == 200
    # Reported just now: the worker may still look something up while it wraps up.
    assert client_with(key).get(QUERY_URL, {"q": "refund"}).status_code == 200
    ended_at = CallSession.objects.get(pk=session_id).ended_at
    assert SessionSearchKey.objects.get(pk=session_id).expires_at == ended_at + timedelta(hours=1)

    # Reported 59 minutes ago (a second report replaces the first, from the same end).
    CallSession.objects.filter(pk=session_id).update(ended_at=ended_at - timedelta(minutes=59))
    assert worker_client().post(report_url(session_id), {}).status_code == 200
    assert client_with(key).get(QUERY_URL, {"q": "refund"}).status_code == 200

    # Reported 61 minutes ago: over.
    CallSession.objects.filter(pk=session_id).update(ended_at=ended_at - timedelta(minutes=61))
    assert worker_client().post(report_url(session_id), {}).status_code == 200
    response = client_with(key).get(QUERY_URL, {"q": "refund"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_an_unreported_sessions_key_ends_an_hour_after_its_token(api_client, shop_documents):
    session_id, _ = session_key(api_client)
    expires_at = CallSession.objects.get(pk=session_id).expires_at
    key = SessionSearchKey.objects.get(pk=session_id)
    assert key.expires_at == expires_at + timedelta(hours=1)


def test_the_key_goes_with_its_character(api_client, shop_documents):
    _, key = session_key(api_client)
    shop_documents.delete()
    assert not SessionSearchKey.objects.exists()
    assert client_with(key).get(QUERY_URL, {"q": "refund"}).status_code == 401


@pytest.mark.parametrize(
    "tamper",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # the signature
        lambda key: key.replace("sess_", "sess_f", 1)[:-1],  # another session id
        lambda key: "kbs_" + "sess_" + "0" * 32 + ":" + key.rsplit(":", 1)[1],
        lambda key: "kbs_",
        lambda key: "kbs_sess_x:y:z",
    ],
)
def test_a_forged_key_is_a_401_and_counted_as_a_failed_key(
    api_client, shop_documents, settings, tamper
):
    _, key = session_key(api_client)
    settings.API_KEY_FAILURE_THROTTLE_RATE = "1/minute"
    forged = client_with(tamper(key))
    assert forged.get(QUERY_URL, {"q": "refund"}).status_code == 401
    assert forged.get(QUERY_URL, {"q": "refund"}).status_code == 429


def test_the_key_of_a_character_with_its_own_kb_url_is_theirs_not_ours(
    api_client, auth_client, widget_character
):
    body = {"kb_query_url": "https://kb.shop.example.com/q", "kb_query_api_key": "their-key"}
    assert auth_client.patch("/api/ai-characters/shop-helper/", body).status_code == 200
    session_id = started(api_client, "shop-helper")
    runtime = worker_client().get(runtime_url(session_id)).json()
    assert runtime["kb_query_api_key"] == "their-key"


def test_the_session_searches_count_per_session(api_client, shop_documents, settings):
    _, key = session_key(api_client)
    _, other_key = session_key(api_client)
    settings.API_THROTTLE_RATE = "2/minute"
    client = client_with(key)
    assert [client.get(QUERY_URL, {"q": "refund"}).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert client_with(other_key).get(QUERY_URL, {"q": "refund"}).status_code == 200


# -- the service-wide KB_QUERY_API_KEY -------------------------------------------------------


def test_the_service_wide_key_still_needs_a_slug(shop_documents, settings):
    settings.KB_QUERY_API_KEY = SERVICE_KEY
    client = client_with(SERVICE_KEY)
    response = client.get(QUERY_URL, {"q": "refund"})
    assert response.status_code == 400
    assert list(response.json()) == ["slug"]
    assert client.get(QUERY_URL, {"slug": "shop-helper", "q": "refund"}).status_code == 200


def test_an_owner_still_needs_a_slug(shop_documents, auth_client):
    response = auth_client.get(QUERY_URL, {"q": "refund"})
    assert response.status_code == 400
    assert list(response.json()) == ["slug"]


def test_the_service_wide_key_is_throttled_per_address(shop_documents, settings):
    settings.KB_QUERY_API_KEY = SERVICE_KEY
    settings.KB_QUERY_KEY_THROTTLE_RATE = "2/minute"
    client = client_with(SERVICE_KEY)
    params = {"slug": "shop-helper", "q": "refund"}
    statuses = [client.get(QUERY_URL, params).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    elsewhere = client.get(QUERY_URL, params, REMOTE_ADDR="198.51.100.9")
    assert elsewhere.status_code == 200
