"""VERSION_RETENTION: the newest never-published versions that no session ran are kept; a
published version, or one a session ran, never goes; an upload goes with the last version
that showed it."""

import pytest

from characters.models import CharacterVersion
from tests.helpers import image_file, start_call, stored_files

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calls_settings")]

URL = "/api/ai-characters/kept-bot/"


def numbers():
    return sorted(CharacterVersion.objects.values_list("number", flat=True))


@pytest.fixture
def manual(auth_client):
    """kept-bot at version 1, published, then publishing by hand."""
    body = {"slug": "kept-bot", "name": "Kept"}
    assert auth_client.post("/api/ai-characters/", body, format="json").status_code == 201
    assert auth_client.patch(URL, {"publishing": "manual"}, format="json").status_code == 200


def draft(auth_client, n):
    response = auth_client.patch(URL, {"greeting": f"Draft {n}"}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["version"]


def test_every_version_is_kept_by_default(auth_client, manual):
    for n in range(2, 7):
        draft(auth_client, n)
    assert numbers() == [1, 2, 3, 4, 5, 6]


def test_old_drafts_go_but_published_and_used_versions_stay(auth_client, manual, settings):
    settings.VERSION_RETENTION = 2
    draft(auth_client, 2)
    used = draft(auth_client, 3)
    # A backend tries the draft in a call: that version is now used.
    started = start_call(auth_client, agent="kept-bot", origin=None, version=used)
    assert started.status_code == 200, started.content
    for n in range(4, 8):
        draft(auth_client, n)
    assert numbers() == [1, 3, 6, 7]
    assert auth_client.get(f"{URL}versions/").json()[0]["version"] == 7


def test_auto_versions_were_all_published_and_stay(auth_client, settings):
    settings.VERSION_RETENTION = 1
    body = {"slug": "kept-bot", "name": "Kept"}
    assert auth_client.post("/api/ai-characters/", body, format="json").status_code == 201
    for n in range(2, 5):
        draft(auth_client, n)
    assert numbers() == [1, 2, 3, 4]


def test_an_upload_goes_with_the_last_version_that_showed_it(
    auth_client, manual, settings, django_capture_on_commit_callbacks
):
    settings.VERSION_RETENTION = 1
    with django_capture_on_commit_callbacks(execute=True):
        first = auth_client.patch(URL, {"image": image_file(name="first.png")}, format="multipart")
        assert first.status_code == 200, first.content
        assert len(stored_files(settings.MEDIA_ROOT)) == 1
        second = auth_client.patch(
            URL, {"image": image_file(name="second.png")}, format="multipart"
        )
        assert second.status_code == 200, second.content
    # Version 2 (the first image) was pruned: only the second image is left.
    assert numbers() == [1, 3]
    files = stored_files(settings.MEDIA_ROOT)
    assert len(files) == 1 and "second" in files[0]
