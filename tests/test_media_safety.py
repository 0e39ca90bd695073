"""Uploads are never stored XSS: names from the content, documents private, /media/ sandboxed."""

import importlib
import io
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from PIL import Image

from knowledge.models import Document
from tests.helpers import png_upload, stored_files, upload, wav_upload

URL = "/api/ai-characters/support-bot/"
DOCUMENTS = "/api/knowledge-base/support-bot/documents/"
SANDBOX = "default-src 'none'; sandbox"
SCRIPT = "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(document.cookie)</script></svg>"


def media(url):
    return Client().get(urlsplit(url).path)


def assert_sandboxed(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX


def jpeg_upload(name):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, "JPEG")
    return upload(name, buffer.getvalue(), "image/png")


def test_image_and_audio_are_named_by_their_content(auth_client, character):
    response = auth_client.patch(
        URL,
        {"image": png_upload("avatar.gif"), "voice.audio_file": wav_upload("voice.svg.html")},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    image, audio = response.json()["image"], response.json()["voice"]["audio_file"]
    assert image.endswith("/characters/images/avatar.png")
    assert audio.endswith("/characters/voices/voice_svg.wav")
    for url, content_type in ((image, "image/png"), (audio, "audio/x-wav")):
        served = media(url)
        assert served.status_code == 200
        assert served["Content-Type"] == content_type
        assert_sandboxed(served)
        # Shown inline: an <img>, an <audio>.
        assert not served.get("Content-Disposition", "").startswith("attachment")

    # (An image named .html is refused by Django's own extension check before that.)
    response = auth_client.patch(URL, {"image": jpeg_upload("photo.png")}, format="multipart")
    assert response.json()["image"].endswith("/characters/images/photo.jpg")
    assert media(response.json()["image"])["Content-Type"] == "image/jpeg"


def test_a_duplicate_keeps_content_named_files(admin_client, auth_client, character):
    auth_client.patch(URL, {"voice.audio_file": wav_upload("v.html")}, format="multipart")
    response = admin_client.post(
        "/admin/characters/character/",
        {"action": "duplicate_selected", "_selected_action": [character.pk]},
    )
    assert response.status_code == 302
    copy = auth_client.get("/api/ai-characters/support-bot-copy/").json()
    assert copy["voice"]["audio_file"].endswith(".wav")


@pytest.mark.parametrize("name", ["old.html", "old.svg", "old.xml", "old"])
def test_media_serves_anything_else_as_a_sandboxed_download(character, name):
    # A file stored before uploads were named by content, under the client's name.
    stored = storages["default"].save(f"characters/voices/{name}", ContentFile(SCRIPT))
    response = Client().get(f"/media/{stored}")
    assert response.status_code == 200
    assert_sandboxed(response)
    assert response["Content-Disposition"] == f'attachment; filename="{stored.split("/")[-1]}"'


def test_documents_are_named_by_type_and_only_their_owner_downloads_them(
    settings, auth_client, other_client, api_client, character
):
    response = auth_client.post(DOCUMENTS, {"file": upload("x.svg", SCRIPT)}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["file_type"], body["name"]) == ("txt", "x.txt")

    # Stored where no URL reaches: nothing under MEDIA_ROOT, and /media/ does not find it.
    assert stored_files(settings.MEDIA_ROOT) == []
    name = Document.objects.get().file.name
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == [name]
    assert Client().get(f"/media/{name}").status_code == 404

    download = body["file"]
    assert download == f"http://testserver{DOCUMENTS}{body['id']}/file/"
    # Accept naming another type is not a 406: the file comes in its own type.
    response = auth_client.get(download, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == SCRIPT.encode()
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.txt"'
    assert response["Cache-Control"] == "private, no-store"
    assert_sandboxed(response)
    assert auth_client.head(download).status_code == 200

    assert other_client.get(download).status_code == 404
    assert api_client.get(download).status_code == 401
    assert auth_client.get(f"{DOCUMENTS}999999/file/").status_code == 404
    # The same link shows in the character's own representation.
    assert auth_client.get(URL).json()["documents"][0]["file"] == download


def test_admin_pages_show_a_documents_name_and_no_public_link(admin_client, auth_client, character):
    auth_client.post(DOCUMENTS, {"file": upload("notes.md", "# Notes")}, format="multipart")
    document = Document.objects.get()
    for page in (
        f"/admin/knowledge/document/{document.pk}/change/",
        f"/admin/characters/character/{character.pk}/change/",
        "/admin/knowledge/document/",
    ):
        response = admin_client.get(page)
        assert response.status_code == 200
        html = response.content.decode()
        assert "notes.md" in html and "/media/documents/" not in html


def test_documents_stored_publicly_before_are_moved_out_of_media(settings, auth_client, character):
    # A document uploaded before documents went private: its file under MEDIA_ROOT.
    public = storages["default"]
    name = public.save("documents/0123abcd/handbook.txt", ContentFile(b"old notes"))
    document = Document.objects.create(character=character, file=name, file_type="txt")
    assert Client().get(f"/media/{name}").status_code == 200

    migration = importlib.import_module("knowledge.migrations.0005_documents_in_private_storage")
    migration.to_private(apps, None)

    assert stored_files(settings.MEDIA_ROOT) == []
    assert Client().get(f"/media/{name}").status_code == 404
    response = auth_client.get(f"{DOCUMENTS}{document.pk}/file/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"old notes"


def test_private_and_public_media_folders_must_not_overlap(settings):
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT / "private"
    with pytest.raises(SystemCheckError, match=r"knowledge\.E001"):
        call_command("check")
