"""The write-only keys over the API (llm_api_key, kb_query_api_key): kept unless sent, cleared
by null or "", never echoed. Every test runs for each key."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from characters.models import WRITE_ONLY_KEYS, Character
from tests.helpers import new_secret, raw_column

URL = "/api/ai-characters/"


def detail_url(slug):
    return f"{URL}{slug}/"


def assert_not_leaked(response, plaintext):
    assert plaintext not in response.content.decode()
    if response.headers.get("Content-Type") == "application/json":
        body = response.json()
        for item in body if isinstance(body, list) else [body]:
            assert not set(WRITE_ONLY_KEYS) & set(item)


@pytest.fixture(params=WRITE_ONLY_KEYS)
def key(request):
    """The name of the write-only key under test."""
    return request.param


@pytest.fixture
def stored_key(key):
    return lambda slug: getattr(Character.objects.get(slug=slug), key)


@pytest.fixture
def secret():
    return new_secret()


@pytest.fixture
def keyed(make_character, user, secret, key):
    return make_character(user, slug="keyed", name="Keyed", **{key: secret})


@pytest.mark.django_db
def test_create_stores_the_key_encrypted_and_does_not_return_it(
    auth_client, secret, key, stored_key
):
    response = auth_client.post(URL, {"slug": "bot", "name": "Bot", key: secret})
    assert response.status_code == 201, response.json()
    assert response.json()[f"has_{key}"] is True
    assert_not_leaked(response, secret)
    character = Character.objects.get(slug="bot")
    assert getattr(character, key) == secret
    assert secret not in raw_column(character, key)


@pytest.mark.django_db
def test_create_without_a_key(auth_client, key, stored_key):
    response = auth_client.post(URL, {"slug": "bot", "name": "Bot"})
    assert response.status_code == 201
    assert response.json()[f"has_{key}"] is False
    assert raw_column(Character.objects.get(slug="bot"), key) is None


@pytest.mark.django_db
def test_multipart_create_encrypts_and_does_not_return_the_key(
    auth_client, secret, key, stored_key
):
    response = auth_client.post(
        URL, {"slug": "bot", "name": "Bot", key: secret}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()[f"has_{key}"] is True
    assert_not_leaked(response, secret)
    assert stored_key("bot") == secret


@pytest.mark.django_db
def test_retrieve_and_list_do_not_return_the_key(auth_client, keyed, secret, key, stored_key):
    retrieved = auth_client.get(detail_url("keyed"))
    assert retrieved.status_code == 200
    assert retrieved.json()[f"has_{key}"] is True
    assert_not_leaked(retrieved, secret)
    listed = auth_client.get(URL)
    assert listed.status_code == 200
    assert [item[f"has_{key}"] for item in listed.json()] == [True]
    assert_not_leaked(listed, secret)


@pytest.mark.django_db
def test_unrelated_patch_keeps_the_key(auth_client, keyed, secret, key, stored_key):
    response = auth_client.patch(detail_url("keyed"), {"greeting": "Hello"})
    assert response.status_code == 200
    assert response.json()[f"has_{key}"] is True
    assert_not_leaked(response, secret)
    assert stored_key("keyed") == secret


@pytest.mark.django_db
def test_patch_replaces_the_key(auth_client, keyed, secret, key, stored_key):
    replacement = new_secret()
    response = auth_client.patch(detail_url("keyed"), {key: replacement})
    assert response.status_code == 200
    assert_not_leaked(response, replacement)
    assert_not_leaked(response, secret)
    assert stored_key("keyed") == replacement


@pytest.mark.django_db
def test_put_without_the_key_keeps_it(auth_client, keyed, secret, key, stored_key):
    response = auth_client.put(detail_url("keyed"), {"slug": "keyed", "name": "Renamed"})
    assert response.status_code == 200, response.json()
    assert response.json()[f"has_{key}"] is True
    assert_not_leaked(response, secret)
    assert stored_key("keyed") == secret


@pytest.mark.django_db
def test_put_round_trip_of_a_response_keeps_the_key(auth_client, keyed, secret, key, stored_key):
    body = auth_client.get(detail_url("keyed")).json()
    body[f"has_{key}"] = False  # read-only: ignored, does not clear
    body.pop("image")
    body["voice"].pop("audio_file")
    response = auth_client.put(detail_url("keyed"), body)
    assert response.status_code == 200, response.json()
    assert stored_key("keyed") == secret


@pytest.mark.django_db
def test_put_with_a_key_replaces_it(auth_client, keyed, secret, key, stored_key):
    replacement = new_secret()
    response = auth_client.put(
        detail_url("keyed"), {"slug": "keyed", "name": "Keyed", key: replacement}
    )
    assert response.status_code == 200
    assert_not_leaked(response, replacement)
    assert stored_key("keyed") == replacement


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_null_or_empty_clears_the_key(auth_client, keyed, method, empty, key, stored_key):
    body = {key: empty}
    if method == "put":
        body |= {"slug": "keyed", "name": "Keyed"}
    response = getattr(auth_client, method)(detail_url("keyed"), body)
    assert response.status_code == 200, response.json()
    assert response.json()[f"has_{key}"] is False
    assert raw_column(Character.objects.get(slug="keyed"), key) is None


@pytest.mark.django_db
def test_multipart_empty_value_clears_the_key(auth_client, keyed, key, stored_key):
    response = auth_client.patch(detail_url("keyed"), {key: ""}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()[f"has_{key}"] is False
    assert stored_key("keyed") is None


@pytest.mark.django_db
def test_too_long_key_is_a_400_that_does_not_echo_it(auth_client, keyed, secret, key, stored_key):
    too_long = new_secret() + "x" * 500
    for response in (
        auth_client.post(URL, {"slug": "bot", "name": "Bot", key: too_long}),
        auth_client.patch(detail_url("keyed"), {key: too_long}),
    ):
        assert response.status_code == 400
        assert key in response.json()
        assert too_long[:40] not in response.content.decode()
    assert stored_key("keyed") == secret
    assert not Character.objects.filter(slug="bot").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [12345678901234, ["sk-in-a-list-0123456789"], {"k": "sk-xyz"}])
def test_non_string_key_is_a_400_that_does_not_echo_it(
    auth_client, keyed, secret, bad, key, stored_key
):
    response = auth_client.patch(detail_url("keyed"), {key: bad})
    assert response.status_code == 400
    assert key in response.json()
    for fragment in ("12345678901234", "sk-in-a-list", "sk-xyz"):
        assert fragment not in response.content.decode()
    assert stored_key("keyed") == secret


@pytest.mark.django_db
def test_key_is_not_echoed_when_another_field_fails(auth_client, secret, key, stored_key):
    response = auth_client.post(
        URL, {"slug": "bot", "name": "Bot", "language": "not a tag!", key: secret}
    )
    assert response.status_code == 400
    assert "language" in response.json()
    assert_not_leaked(response, secret)


@pytest.mark.django_db
def test_key_never_reaches_the_logs(auth_client, secret, caplog, key, stored_key):
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.db.backends"):  # Django sets these to INFO
        caplog.set_level(logging.DEBUG, logger=name)
    with CaptureQueriesContext(connection):  # forces SQL logging, with its parameters
        auth_client.post(URL, {"slug": "bot", "name": "Bot", key: secret})
        auth_client.patch(detail_url("bot"), {key: secret + "x" * 600})
        auth_client.get(detail_url("bot"))
    assert "INSERT INTO" in caplog.text
    assert "gAAAAA" in caplog.text  # the logged parameter is the Fernet token
    assert "Bad Request" in caplog.text
    assert secret not in caplog.text


@pytest.mark.django_db
def test_someone_elses_key_cannot_be_changed(other_client, keyed, secret, key, stored_key):
    response = other_client.patch(detail_url("keyed"), {key: None})
    assert response.status_code == 404
    assert stored_key("keyed") == secret
