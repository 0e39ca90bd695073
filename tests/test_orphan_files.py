"""Uploads never outlive the row that points at them, and a failed write leaves none behind."""

import pytest
from django.db import IntegrityError
from django.db.models.signals import post_save

from characters.models import Character
from tests.helpers import png_upload, stored_files

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"


@pytest.fixture
def fail_after_save():
    """Makes the next character save fail after its files were stored (a failure mid-write)."""
    errors = []

    def explode(sender, instance, **kwargs):
        if errors:
            raise errors[0]

    post_save.connect(explode, sender=Character, dispatch_uid="test-explode")
    yield errors.append
    post_save.disconnect(sender=Character, dispatch_uid="test-explode")


def create_with_image(client, slug="pictured", **extra):
    body = {"slug": slug, "name": "Pictured", "image": png_upload(), **extra}
    return client.post(URL, body, format="multipart")


def test_validation_failure_stores_nothing(auth_client, settings):
    response = create_with_image(auth_client, language="not a language!")
    assert response.status_code == 400
    assert stored_files(settings.MEDIA_ROOT) == []


@pytest.mark.parametrize(
    ("error", "expected_status"), [(IntegrityError("boom"), 409), (RuntimeError("boom"), 500)]
)
def test_a_write_failing_after_the_upload_was_stored_removes_it(
    auth_client, settings, fail_after_save, error, expected_status
):
    fail_after_save(error)
    response = create_with_image(auth_client)
    assert response.status_code == expected_status
    assert response["Content-Type"] == "application/json"
    assert not Character.objects.exists()
    assert stored_files(settings.MEDIA_ROOT) == []


def test_a_failed_replace_keeps_the_old_file_and_removes_the_new(
    auth_client, settings, fail_after_save, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert create_with_image(auth_client).status_code == 201
    original = stored_files(settings.MEDIA_ROOT)
    fail_after_save(IntegrityError("boom"))
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch(
            f"{URL}pictured/", {"image": png_upload("new.png")}, format="multipart"
        )
    assert response.status_code == 409
    assert stored_files(settings.MEDIA_ROOT) == original
    assert Character.objects.get().image.name == original[0]


def test_a_replaced_image_stays_while_a_version_shows_it(
    auth_client, settings, django_capture_on_commit_callbacks
):
    # Version 1 shows the old image (docs/versions.md): a restore must find it again.
    with django_capture_on_commit_callbacks(execute=True):
        create_with_image(auth_client)
        old = Character.objects.get().image.name
        response = auth_client.patch(
            f"{URL}pictured/", {"image": png_upload("new.png")}, format="multipart"
        )
    assert response.status_code == 200
    new = Character.objects.get().image.name
    assert stored_files(settings.MEDIA_ROOT) == sorted([old, new])
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"{URL}pictured/").status_code == 204
    assert stored_files(settings.MEDIA_ROOT) == []


def test_clearing_keeps_the_file_of_the_version_before_and_deleting_removes_them(
    auth_client, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        create_with_image(auth_client, slug="cleared")
        create_with_image(auth_client, slug="deleted")
        assert len(stored_files(settings.MEDIA_ROOT)) == 2
        kept = Character.objects.get(slug="cleared").image.name
        assert auth_client.patch(f"{URL}cleared/", {"image": None}).status_code == 200
        assert auth_client.delete(f"{URL}deleted/").status_code == 204
    assert stored_files(settings.MEDIA_ROOT) == [kept]
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"{URL}cleared/").status_code == 204
    assert stored_files(settings.MEDIA_ROOT) == []
