"""llm_api_key over the API: write-only, kept unless sent, cleared by null or "", never echoed."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from characters.models import Character
from tests.helpers import new_secret, raw_column

URL = "/api/ai-characters/"


def detail_url(slug):
    return f"{URL}{slug}/"


def stored_key(slug):
    return Character.objects.get(slug=slug).llm_api_key


def assert_not_leaked(response, plaintext):
    assert plaintext not in response.content.decode()
    if response.headers.get("Content-Type") == "application/json":
        body = response.json()
        for item in body if isinstance(body, list) else [body]:
            assert "llm_api_key" not in item


@pytest.fixture
def secret():
    return new_secret()


@pytest.fixture
def keyed(make_character, user, secret):
    return make_character(user, slug="keyed", name="Keyed", llm_api_key=secret)


@pytest.mark.django_db
def test_create_stores_the_key_encrypted_and_does_not_return_it(auth_client, secret):
    response = auth_client.post(URL, {"slug": "bot", "name": "Bot", "llm_api_key": secret})
    assert response.status_code == 201, response.json()
    assert response.json()["has_llm_api_key"] is True
    assert_not_leaked(response, secret)
    character = Character.objects.get(slug="bot")
    assert character.llm_api_key == secret
    assert secret not in raw_column(character)


@pytest.mark.django_db
def test_create_without_a_key(auth_client):
    response = auth_client.post(URL, {"slug": "bot", "name": "Bot"})
    assert response.status_code == 201
    assert response.json()["has_llm_api_key"] is False
    assert raw_column(Character.objects.get(slug="bot")) is None


@pytest.mark.django_db
def test_multipart_create_encrypts_and_does_not_return_the_key(auth_client, secret):
    response = auth_client.post(
        URL, {"slug": "bot", "name": "Bot", "llm_api_key": secret}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["has_llm_api_key"] is True
    assert_not_leaked(response, secret)
    assert stored_key("bot") == secret


@pytest.mark.django_db
def test_retrieve_and_list_do_not_return_the_key(auth_client, keyed, secret):
    retrieved = auth_client.get(detail_url("keyed"))
    assert retrieved.status_code == 200
    assert retrieved.json()["has_llm_api_key"] is True
    assert_not_leaked(retrieved, secret)
    listed = auth_client.get(URL)
    assert listed.status_code == 200
    assert [item["has_llm_api_key"] for item in listed.json()] == [True]
    assert_not_leaked(listed, secret)


@pytest.mark.django_db
def test_unrelated_patch_keeps_the_key(auth_client, keyed, secret):
    response = auth_client.patch(detail_url("keyed"), {"greeting": "Hello"})
    assert response.status_code == 200
    assert response.json()["has_llm_api_key"] is True
    assert_not_leaked(response, secret)
    assert stored_key("keyed") == secret


@pytest.mark.django_db
def test_patch_replaces_the_key(auth_client, keyed, secret):
    replacement = new_secret()
    response = auth_client.patch(detail_url("keyed"), {"llm_api_key": replacement})
    assert response.status_code == 200
    assert_not_leaked(response, replacement)
    assert_not_leaked(response, secret)
    assert stored_key("keyed") == replacement


@pytest.mark.django_db
def test_put_without_the_key_keeps_it(auth_client, keyed, secret):
    response = auth_client.put(detail_url("keyed"), {"slug": "keyed", "name": "Renamed"})
    assert response.status_code == 200, response.json()
    assert response.json()["has_llm_api_key"] is True
    assert_not_leaked(response, secret)
    assert stored_key("keyed") == secret


@pytest.mark.django_db
def test_put_round_trip_of_a_response_keeps_the_key(auth_client, keyed, secret):
    body = auth_client.get(detail_url("keyed")).json()
    body["has_llm_api_key"] = False  # read-only: ignored, does not clear
    body.pop("image")
    body["voice"].pop("audio_file")
    response = auth_client.put(detail_url("keyed"), body)
    assert response.status_code == 200, response.json()
    assert stored_key("keyed") == secret


@pytest.mark.django_db
def test_put_with_a_key_replaces_it(auth_client, keyed, secret):
    replacement = new_secret()
    response = auth_client.put(
        detail_url("keyed"), {"slug": "keyed", "name": "Keyed", "llm_api_key": replacement}
    )
    assert response.status_code == 200
    assert_not_leaked(response, replacement)
    assert stored_key("keyed") == replacement


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_null_or_empty_clears_the_key(auth_client, keyed, method, empty):
    body = {"llm_api_key": empty}
    if method == "put":
        body |= {"slug": "keyed", "name": "Keyed"}
    response = getattr(auth_client, method)(detail_url("keyed"), body)
    assert response.status_code == 200, response.json()
    assert response.json()["has_llm_api_key"] is False
    assert raw_column(Character.objects.get(slug="keyed")) is None


@pytest.mark.django_db
def test_multipart_empty_value_clears_the_key(auth_client, keyed):
    response = auth_client.patch(detail_url("keyed"), {"llm_api_key": ""}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["has_llm_api_key"] is False
    assert stored_key("keyed") is None


@pytest.mark.django_db
def test_too_long_key_is_a_400_that_does_not_echo_it(auth_client, keyed, secret):
    too_long = new_secret() + "x" * 500
    for response in (
        auth_client.post(URL, {"slug": "bot", "name": "Bot", "llm_api_key": too_long}),
        auth_client.patch(detail_url("keyed"), {"llm_api_key": too_long}),
    ):
        assert response.status_code == 400
        assert "llm_api_key" in response.json()
        assert too_long[:40] not in response.content.decode()
    assert stored_key("keyed") == secret
    assert not Character.objects.filter(slug="bot").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [12345678901234, ["sk-in-a-list-0123456789"], {"k": "sk-xyz"}])
def test_non_string_key_is_a_400_that_does_not_echo_it(auth_client, keyed, secret, bad):
    response = auth_client.patch(detail_url("keyed"), {"llm_api_key": bad})
    assert response.status_code == 400
    assert "llm_api_key" in response.json()
    for fragment in ("12345678901234", "sk-in-a-list", "sk-xyz"):
        assert fragment not in response.content.decode()
    assert stored_key("keyed") == secret


@pytest.mark.django_db
def test_key_is_not_echoed_when_another_field_fails(auth_client, secret):
    response = auth_client.post(
        URL, {"slug": "bot", "name": "Bot", "language": "not a tag!", "llm_api_key": secret}
    )
    assert response.status_code == 400
    assert "language" in response.json()
    assert_not_leaked(response, secret)


@pytest.mark.django_db
def test_key_never_reaches_the_logs(auth_client, secret, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.db.backends"):  # Django sets these to INFO
        caplog.set_level(logging.DEBUG, logger=name)
    with CaptureQueriesContext(connection):  # forces SQL logging, with its parameters
        auth_client.post(URL, {"slug": "bot", "name": "Bot", "llm_api_key": secret})
        auth_client.patch(detail_url("bot"), {"llm_api_key": secret + "x" * 600})
        auth_client.get(detail_url("bot"))
    assert "INSERT INTO" in caplog.text
    assert "gAAAAA" in caplog.text  # the logged parameter is the Fernet token
    assert "Bad Request" in caplog.text
    assert secret not in caplog.text


@pytest.mark.django_db
def test_someone_elses_key_cannot_be_changed(other_client, keyed, secret):
    response = other_client.patch(detail_url("keyed"), {"llm_api_key": None})
    assert response.status_code == 404
    assert stored_key("keyed") == secret
