"""The one change path (characters/changes.py): every way of changing a character is seen at
once by the widget's fetch and session start, whose readings are cached; a bulk
QuerySet.update() that would pass it by is refused."""

import pytest
from django.db import transaction
from django.db.models import F
from rest_framework.test import APIClient

from characters import services
from characters.models import BulkUpdateRefused, Character
from tests.helpers import WIDGET_ORIGIN, start_call, use_redis_cache

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calls_settings")]

APPEARANCE = "/api/agents/shop-helper/appearance/"


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request, settings):
    if request.param == "redis":
        use_redis_cache(settings)
    return request.param


@pytest.fixture
def warm(widget_character, cache_backend):
    """Both public readings of shop-helper cached."""
    assert fetch().status_code == 200
    assert start_call(APIClient()).status_code == 200
    return widget_character


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` a change, and what follows its commit has run when the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def fetch():
    return APIClient().get(APPEARANCE, HTTP_ORIGIN=WIDGET_ORIGIN)


def test_a_bulk_update_through_the_services_is_seen_at_once(warm, committed):
    with committed():
        changed = services.update_characters(
            Character.objects.filter(slug="shop-helper"), allowed_origins=["https://other.example"]
        )
    assert changed == 1
    assert fetch().status_code == 403
    assert start_call(APIClient()).status_code == 403


def test_a_bulk_deactivation_is_seen_at_once(warm, committed):
    with committed():
        services.update_characters(Character.objects.filter(pk=warm.pk), is_active=False)
    assert fetch().status_code == 404
    assert start_call(APIClient()).status_code == 404


def test_a_bulk_update_shows_in_session_start(warm, committed):
    with committed():
        services.update_characters(Character.objects.filter(pk=warm.pk), greeting="Welcome back!")
    assert start_call(APIClient()).json()["greeting"] == "Welcome back!"


def test_a_save_in_a_shell_is_seen_at_once(warm, committed):
    warm.widget_appearance = {"name": "Renamed in a shell"}
    with committed():
        warm.save()
    assert fetch().json()["name"] == "Renamed in a shell"


def test_a_delete_cascaded_from_the_owner_is_seen_at_once(warm, committed):
    with committed():
        warm.owner.delete()
    assert fetch().status_code == 404
    assert start_call(APIClient()).status_code == 404


def test_a_queryset_update_is_refused_and_changes_nothing(widget_character):
    characters = Character.objects.filter(pk=widget_character.pk)
    with pytest.raises(BulkUpdateRefused, match="update_characters"):
        characters.update(greeting="Sneaked in")
    with pytest.raises(BulkUpdateRefused):
        characters.update(name=F("slug"))
    widget_character.greeting = "Sneaked in"
    with pytest.raises(BulkUpdateRefused), transaction.atomic():  # bulk_update's own atomic
        Character.objects.bulk_update([widget_character], ["greeting"])
    assert Character.objects.get(pk=widget_character.pk).greeting == "Hello, shopper!"


def test_a_document_change_gives_a_new_revision_and_is_no_change(widget_character):
    # Documents are data about a character, not its configuration: only the read cache's key
    # (the revision) moves.
    before = widget_character.revision
    Character.objects.filter(pk=widget_character.pk).bump_revision()
    widget_character.refresh_from_db()
    assert widget_character.revision != before
    assert widget_character.greeting == "Hello, shopper!"
