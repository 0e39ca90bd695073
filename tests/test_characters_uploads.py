"""Image and voice uploads: real files only, absolute URLs, kept or cleared as docs/api.md says."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from characters.models import Character
from tests.helpers import image_file, send_files, wav_file

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_image_upload_returns_an_absolute_url(auth_client, character, fmt):
    response = send_files(auth_client, character.slug, image=image_file(fmt))
    assert response.status_code == 200, response.json()
    url = response.json()["image"]
    assert url.startswith("http://testserver/media/characters/images/avatar")


def test_uploaded_image_is_served_in_development(auth_client, character, client):
    url = send_files(auth_client, character.slug, image=image_file()).json()["image"]
    served = client.get(url.removeprefix("http://testserver"))
    assert served.status_code == 200
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")


def test_create_with_multipart_fields_and_image(auth_client):
    response = auth_client.post(
        URL,
        {
            "slug": "pic",
            "name": "Pic",
            "image": image_file(),
            "allowed_origins": '["https://acme.com"]',
            "voice.voice_url": "https://voices.example.com/v/1",
            "voice.audio_file": wav_file(),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["allowed_origins"] == ["https://acme.com"]
    assert body["voice"]["voice_url"] == "https://voices.example.com/v/1"
    assert body["voice"]["audio_file"].startswith("http://testserver/media/characters/voices/")
    assert body["image"].startswith("http://testserver/media/")


def test_multipart_json_field_must_be_json(auth_client, character):
    response = send_files(auth_client, character.slug, allowed_origins="not json")
    assert response.status_code == 400
    assert "allowed_origins" in response.json()


@pytest.mark.parametrize(
    "make_file",
    [
        lambda: SimpleUploadedFile("fake.png", b"this is not an image at all"),
        lambda: SimpleUploadedFile("empty.png", b""),
        lambda: SimpleUploadedFile("cut.png", image_file(size=(64, 64)).read()[:60]),
        lambda: SimpleUploadedFile("cut.jpg", image_file("JPEG", size=(64, 64)).read()[:300]),
        lambda: image_file("BMP"),
        lambda: image_file("TIFF"),
    ],
    ids=["not-an-image", "empty", "truncated-png", "truncated-jpeg", "bmp", "tiff"],
)
def test_invalid_images_are_400(auth_client, character, make_file):
    response = send_files(auth_client, character.slug, image=make_file())
    assert response.status_code == 400
    assert "image" in response.json()
    character.refresh_from_db()
    assert not character.image


def test_decompression_bomb_is_400(auth_client, character, settings):
    settings.CHARACTER_IMAGE_MAX_PIXELS = 1000 * 1000
    bomb = image_file(size=(2000, 2000), mode="1")
    assert bomb.size < 10_000  # tiny on disk, huge once decoded
    response = send_files(auth_client, character.slug, image=bomb)
    assert response.status_code == 400
    assert "pixels" in response.json()["image"][0]


def test_image_over_the_byte_limit_is_400(auth_client, character, settings):
    settings.CHARACTER_IMAGE_MAX_BYTES = 100
    response = send_files(auth_client, character.slug, image=image_file(size=(64, 64)))
    assert response.status_code == 400
    assert "image" in response.json()


@pytest.mark.parametrize(
    "make_file",
    [
        lambda: SimpleUploadedFile("fake.mp3", b"ID3 but not really audio" * 10),
        lambda: SimpleUploadedFile("voice.wav", b"RIFF\x00\x00\x00\x00WAVEjunk"),
        lambda: image_file(name="voice.ogg"),
    ],
    ids=["fake-mp3", "broken-wav", "image-as-ogg"],
)
def test_invalid_audio_is_400_under_voice(auth_client, character, make_file):
    response = auth_client.patch(
        f"{URL}{character.slug}/", {"voice.audio_file": make_file()}, format="multipart"
    )
    assert response.status_code == 400
    assert "audio_file" in response.json()["voice"]


def test_audio_over_the_byte_limit_is_400(auth_client, character, settings):
    settings.CHARACTER_AUDIO_MAX_BYTES = 100
    response = auth_client.patch(
        f"{URL}{character.slug}/", {"voice.audio_file": wav_file()}, format="multipart"
    )
    assert response.status_code == 400
    assert "audio_file" in response.json()["voice"]


def test_put_keeps_files_unless_sent_and_null_clears(
    auth_client, character, django_capture_on_commit_callbacks
):
    send_files(auth_client, character.slug, image=image_file())
    auth_client.patch(
        f"{URL}{character.slug}/", {"voice.audio_file": wav_file()}, format="multipart"
    )
    character.refresh_from_db()
    image_path = character.image.path

    response = auth_client.put(f"{URL}{character.slug}/", {"slug": character.slug, "name": "N"})
    assert response.status_code == 200
    assert response.json()["image"] is not None
    assert response.json()["voice"]["audio_file"] is not None

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch(
            f"{URL}{character.slug}/", {"image": None, "voice": {"audio_file": None}}
        )
    assert response.status_code == 200
    assert response.json()["image"] is None
    assert response.json()["voice"]["audio_file"] is None
    # Cleared, yet the versions before still show it (docs/versions.md): it stays until the
    # character goes.
    assert os.path.exists(image_path)
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"{URL}{character.slug}/").status_code == 204
    assert not os.path.exists(image_path)


def test_a_replaced_image_stays_while_a_version_shows_it(
    auth_client, character, django_capture_on_commit_callbacks
):
    send_files(auth_client, character.slug, image=image_file())
    old_path = Character.objects.get(pk=character.pk).image.path
    with django_capture_on_commit_callbacks(execute=True):
        send_files(auth_client, character.slug, image=image_file("GIF"))
    new = Character.objects.get(pk=character.pk).image
    assert os.path.exists(old_path)
    assert os.path.exists(new.path)
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"{URL}{character.slug}/").status_code == 204
    assert not os.path.exists(old_path) and not os.path.exists(new.path)


def test_deleting_a_character_removes_its_files(
    auth_client, character, django_capture_on_commit_callbacks
):
    send_files(auth_client, character.slug, image=image_file())
    path = Character.objects.get(pk=character.pk).image.path
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"{URL}{character.slug}/").status_code == 204
    assert not os.path.exists(path)
