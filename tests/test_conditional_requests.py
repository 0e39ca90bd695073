"""ETag, If-None-Match and If-Match on the character endpoints."""

import pytest

from characters.models import Character
from tests.helpers import png_upload

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"


def detail(slug):
    return f"{URL}{slug}/"


def etag_of(client, slug):
    response = client.get(detail(slug))
    assert response.status_code == 200
    return response["ETag"]


def test_get_carries_a_strong_etag_that_is_stable(auth_client, character):
    first = etag_of(auth_client, character.slug)
    assert first.startswith('"') and first.endswith('"')
    assert not first.startswith("W/")
    assert etag_of(auth_client, character.slug) == first


def test_if_none_match_current_tag_is_304_without_body(auth_client, character):
    etag = etag_of(auth_client, character.slug)
    response = auth_client.get(detail(character.slug), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    weak = auth_client.get(detail(character.slug), HTTP_IF_NONE_MATCH=f"W/{etag}")
    assert weak.status_code == 304


def test_if_none_match_stale_tag_is_200(auth_client, character):
    response = auth_client.get(detail(character.slug), HTTP_IF_NONE_MATCH='"stale", "other"')
    assert response.status_code == 200
    assert response.json()["slug"] == character.slug


def test_write_responses_carry_the_etag_a_get_then_returns(auth_client, user, character):
    created = auth_client.post(URL, {"slug": "fresh", "name": "Fresh"})
    assert created.status_code == 201
    assert created["ETag"] == etag_of(auth_client, "fresh")
    patched = auth_client.patch(detail(character.slug), {"greeting": "Hello"})
    assert patched.status_code == 200
    assert patched["ETag"] == etag_of(auth_client, character.slug)


def test_etag_changes_with_every_change_to_the_representation(
    auth_client, user, make_character, character
):
    target = make_character(user, slug="target", name="Target")
    before = etag_of(auth_client, character.slug)
    auth_client.patch(detail(character.slug), {"handoff_targets": [{"slug": "target"}]})
    with_target = etag_of(auth_client, character.slug)
    assert with_target != before
    # The target's name is part of this character's body: renaming it changes the tag.
    auth_client.patch(detail(target.slug), {"name": "Renamed target"})
    renamed = etag_of(auth_client, character.slug)
    assert renamed != with_target
    auth_client.delete(detail(target.slug))
    assert etag_of(auth_client, character.slug) not in {with_target, renamed}


@pytest.mark.parametrize("method", ["put", "patch"])
def test_stale_if_match_on_update_is_412_and_changes_nothing(auth_client, character, method):
    stale = etag_of(auth_client, character.slug)
    auth_client.patch(detail(character.slug), {"greeting": "Changed meanwhile"})
    body = {"slug": character.slug, "name": "Overwritten"}
    response = getattr(auth_client, method)(detail(character.slug), body, HTTP_IF_MATCH=stale)
    assert response.status_code == 412
    assert "If-Match" in response.json()["detail"]
    character.refresh_from_db()
    assert character.name == "Support Bot"
    assert character.greeting == "Changed meanwhile"


def test_stale_if_match_on_delete_is_412_and_keeps_the_character(auth_client, character):
    stale = etag_of(auth_client, character.slug)
    auth_client.patch(detail(character.slug), {"greeting": "Changed meanwhile"})
    response = auth_client.delete(detail(character.slug), HTTP_IF_MATCH=stale)
    assert response.status_code == 412
    assert Character.objects.filter(pk=character.pk).exists()


def test_current_if_match_allows_update_and_delete(auth_client, character):
    etag = etag_of(auth_client, character.slug)
    response = auth_client.patch(detail(character.slug), {"name": "New"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    listed = f'"unrelated", {response["ETag"]}'
    assert auth_client.delete(detail(character.slug), HTTP_IF_MATCH=listed).status_code == 204
    assert not Character.objects.filter(pk=character.pk).exists()


def test_if_match_star_and_weak_tags(auth_client, character):
    etag = etag_of(auth_client, character.slug)
    weak = auth_client.patch(detail(character.slug), {"name": "X"}, HTTP_IF_MATCH=f"W/{etag}")
    assert weak.status_code == 412  # If-Match uses the strong comparison
    star = auth_client.patch(detail(character.slug), {"name": "Y"}, HTTP_IF_MATCH="*")
    assert star.status_code == 200


def test_without_if_match_writes_work_as_before(auth_client, character):
    assert auth_client.patch(detail(character.slug), {"name": "A"}).status_code == 200
    full = {"slug": character.slug, "name": "B"}
    assert auth_client.put(detail(character.slug), full).status_code == 200
    assert auth_client.delete(detail(character.slug)).status_code == 204


def test_if_match_on_someone_elses_character_is_404(other_client, character):
    response = other_client.patch(detail(character.slug), {"name": "X"}, HTTP_IF_MATCH="*")
    assert response.status_code == 404


def test_the_etag_is_the_same_through_every_host_name(auth_client, character, settings):
    settings.ALLOWED_HOSTS = ["api.example.com", "eu.example.com", "testserver"]
    upload = auth_client.patch(detail(character.slug), {"image": png_upload()}, format="multipart")
    assert upload.status_code == 200
    through_a = auth_client.get(detail(character.slug), headers={"Host": "api.example.com"})
    through_b = auth_client.get(detail(character.slug), headers={"Host": "eu.example.com"})
    # The bodies differ (absolute image URLs), the version does not.
    assert through_a.json()["image"] != through_b.json()["image"]
    assert through_a["ETag"] == through_b["ETag"] == upload["ETag"]
    patched = auth_client.patch(
        detail(character.slug),
        {"name": "Through B"},
        headers={"Host": "eu.example.com", "If-Match": through_a["ETag"]},
    )
    assert patched.status_code == 200
    assert patched["ETag"] == etag_of(auth_client, character.slug)


@pytest.mark.parametrize("tag", ["current", "*"])
def test_if_none_match_on_a_write_that_matches_is_412(auth_client, character, tag):
    etag = etag_of(auth_client, character.slug) if tag == "current" else tag
    response = auth_client.patch(detail(character.slug), {"name": "X"}, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 412  # RFC 9110 13.1.2: only GET and HEAD answer 304
    assert auth_client.delete(detail(character.slug), HTTP_IF_NONE_MATCH=etag).status_code == 412
    character.refresh_from_db()
    assert character.name == "Support Bot"


def test_if_match_is_evaluated_before_if_none_match(auth_client, character):
    etag = etag_of(auth_client, character.slug)
    # A failed If-Match wins over a matching If-None-Match (RFC 9110 13.2.2).
    stale = auth_client.get(
        detail(character.slug), HTTP_IF_MATCH='"stale"', HTTP_IF_NONE_MATCH=etag
    )
    assert stale.status_code == 412
    both = auth_client.get(detail(character.slug), HTTP_IF_MATCH=etag, HTTP_IF_NONE_MATCH=etag)
    assert both.status_code == 304


def test_date_conditions_are_ignored(auth_client, character):
    # The representation changes with other rows too (targets, documents): it has no honest
    # modification date, so If-(Un)Modified-Since are ignored, as RFC 9110 asks.
    old = "Sat, 01 Jan 2000 00:00:00 GMT"
    response = auth_client.patch(
        detail(character.slug), {"name": "Dated"}, HTTP_IF_UNMODIFIED_SINCE=old
    )
    assert response.status_code == 200
    future = "Fri, 01 Jan 2100 00:00:00 GMT"
    assert auth_client.get(detail(character.slug), HTTP_IF_MODIFIED_SINCE=future).status_code == 200
