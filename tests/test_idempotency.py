"""Idempotency-Key on POST /api/ai-characters/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from characters.models import Character, IdempotencyKey
from tests.helpers import png_upload, stored_files

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"
BODY = {"slug": "support-bot", "name": "Support Bot", "greeting": "Hi"}


def post(client, body=BODY, key="key-1", **extra):
    return client.post(URL, body, HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_same_key_and_body_replays_the_first_response(auth_client):
    first = post(auth_client)
    assert first.status_code == 201
    again = post(auth_client)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]
    assert Character.objects.count() == 1


def test_replay_ignores_json_key_order(auth_client):
    assert post(auth_client).status_code == 201
    reordered = dict(reversed(list(BODY.items())))
    assert post(auth_client, reordered).status_code == 201
    assert Character.objects.count() == 1


def test_replay_returns_the_original_even_after_a_change(auth_client):
    first = post(auth_client)
    renamed = auth_client.patch(f"{URL}support-bot/", {"name": "Renamed"})
    replayed = post(auth_client)
    assert replayed.json() == first.json()
    # The ETag first sent, not the character's current one.
    assert replayed["ETag"] == first["ETag"] != renamed["ETag"]


def test_same_key_with_a_different_body_is_422(auth_client):
    assert post(auth_client).status_code == 201
    response = post(auth_client, {**BODY, "slug": "another"})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert list(Character.objects.values_list("slug", flat=True)) == ["support-bot"]


def test_keys_are_per_user(auth_client, other_client):
    assert post(auth_client).status_code == 201
    response = post(other_client, {**BODY, "slug": "other-bot"})
    assert response.status_code == 201
    assert Character.objects.count() == 2


def test_a_failed_create_does_not_use_up_the_key(auth_client):
    failed = post(auth_client, {**BODY, "language": "not a language!"})
    assert failed.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert post(auth_client).status_code == 201
    assert post(auth_client)["Idempotent-Replayed"] == "true"


def test_keys_expire_after_24_hours(auth_client):
    assert post(auth_client).status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    response = post(auth_client, {**BODY, "slug": "next-day"})
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Character.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1


def test_without_a_key_nothing_is_stored(auth_client):
    assert auth_client.post(URL, BODY).status_code == 201
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_invalid_keys_are_400_naming_the_header(auth_client, key):
    response = auth_client.post(URL, BODY, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Character.objects.exists()


def test_multipart_replay_with_the_same_file_creates_one_character(auth_client, settings):
    def send(colour):
        body = {"slug": "pictured", "name": "Pictured", "image": png_upload(colour=colour)}
        return auth_client.post(URL, body, format="multipart", HTTP_IDEMPOTENCY_KEY="up-1")

    first = send("red")
    assert first.status_code == 201, first.json()
    again = send("red")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert send("blue").status_code == 422  # same key, a different file
    assert Character.objects.count() == 1
    assert len(stored_files(settings.MEDIA_ROOT)) == 1
