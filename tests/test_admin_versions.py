"""The admin's character history: versions with what they changed (secrets masked), restore
and publish through the services (issue 31 item 7; issue 33 item 4)."""

import pytest
from django.urls import reverse

from characters.models import Character, CharacterVersion
from tests.helpers import change_url

pytestmark = pytest.mark.django_db

SECRET = "sk-admin-history-secret-0123456789"


@pytest.fixture
def versioned(auth_client, user):
    """history-bot with three versions: created, a new prompt and key, a new greeting."""
    created = auth_client.post(
        "/api/ai-characters/", {"slug": "history-bot", "name": "History"}, format="json"
    )
    assert created.status_code == 201
    url = "/api/ai-characters/history-bot/"
    changes = [
        {"system_prompt": "Be brief.", "llm_api_key": SECRET},
        {"greeting": "Hello there!"},
    ]
    for body in changes:
        assert auth_client.patch(url, body, format="json").status_code == 200
    return Character.objects.get(slug="history-bot")


def version_page(character, number):
    version = CharacterVersion.objects.get(character=character, number=number)
    return reverse("admin:characters_characterversion_change", args=[version.pk]), version


def test_the_character_page_lists_its_versions(admin_client, versioned):
    html = admin_client.get(change_url(versioned)).content.decode()
    for number in range(1, versioned.version + 1):
        url, _ = version_page(versioned, number)
        assert url in html
    assert "system_prompt" in html and "greeting" in html
    assert SECRET not in html


def test_a_version_page_shows_its_changes_masked(admin_client, versioned):
    url, _ = version_page(versioned, versioned.version - 1)
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Be brief." in html
    assert "********" in html  # the key changed in that version: shown only as the mask
    assert SECRET not in html
    assert "Restore this version" in html
    assert "Publish this version" not in html  # an "auto" character: every version is live


def test_restore_in_the_admin_records_a_new_version(admin_client, auth_client, versioned):
    _, version = version_page(versioned, 1)
    restore = reverse("admin:characters_characterversion_restore", args=[version.pk])
    response = admin_client.post(restore)
    assert response.status_code == 302
    body = auth_client.get(f"/api/ai-characters/{versioned.slug}/").json()
    assert body["version"] == versioned.version + 1
    assert body["system_prompt"] == ""
    newest = CharacterVersion.objects.filter(character=versioned).first()
    assert (newest.source, newest.author_type) == ("restore", "admin")


def test_publish_in_the_admin_makes_a_version_live(admin_client, auth_client, versioned):
    url = f"/api/ai-characters/{versioned.slug}/"
    response = auth_client.patch(url, {"publishing": "manual"}, format="json")
    assert response.status_code == 200, response.json()
    _, version = version_page(versioned, 2)
    assert (
        "Publish this version" in admin_client.get(version_page(versioned, 2)[0]).content.decode()
    )
    publish = reverse("admin:characters_characterversion_publish", args=[version.pk])
    assert admin_client.post(publish).status_code == 302
    assert auth_client.get(url).json()["published_version"] == 2


def test_a_get_changes_nothing_and_versions_cannot_be_edited(admin_client, versioned):
    url, version = version_page(versioned, 1)
    restore = reverse("admin:characters_characterversion_restore", args=[version.pk])
    assert admin_client.get(restore).status_code == 302
    assert Character.objects.get(pk=versioned.pk).version == versioned.version
    assert admin_client.post(url, {"note": "rewritten"}).status_code == 403
    delete = reverse("admin:characters_characterversion_delete", args=[version.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403


def test_staff_without_the_change_permission_cannot_restore(client, make_user, versioned):
    from django.contrib.auth.models import Permission

    viewer = make_user(is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_characterversion", "view_character"])
    )
    client.force_login(viewer)
    url, version = version_page(versioned, 1)
    html = client.get(url).content.decode()
    assert "Restore this version" not in html
    restore = reverse("admin:characters_characterversion_restore", args=[version.pk])
    assert client.post(restore).status_code == 403
    assert Character.objects.get(pk=versioned.pk).version == versioned.version
