"""A long list's pages from the owner's cached list positions (characters/api/positions.py):
the same pages, totals and links as the plain query, at every offset and after every kind
of change; on SQLite and PostgreSQL, with Redis (positions need a cache every process shares).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from characters.api import positions
from characters.models import Character, CharacterType
from tests.helpers import client_for, use_redis_cache

URL = "/api/ai-characters/"
COUNT = 13


@pytest.fixture
def long_list(settings, monkeypatch, user, make_character, django_capture_on_commit_callbacks):
    """13 characters of `user`: a "long" list with anchors every 3 rows."""
    use_redis_cache(settings)
    monkeypatch.setattr(positions, "LONG_LIST", 5)
    monkeypatch.setattr(positions, "STEP", 3)
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(COUNT):
            kind = CharacterType.PODCAST_HOST if index % 2 else CharacterType.SUPPORT_AGENT
            make_character(user, slug=f"long-{index:02d}", character_type=kind)
    return client_for(user)


def every_slug(client, query=""):
    """The whole list, unpaged (the plain statement: no positions involved)."""
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    return [item["slug"] for item in response.json()]


def assert_pages_match(client, query=""):
    slugs = every_slug(client, query)
    for limit in (1, 2, 5):
        for offset in range(len(slugs) + 2):
            response = client.get(f"{URL}?limit={limit}&offset={offset}&{query}")
            assert response.status_code == 200
            page = [item["slug"] for item in response.json()]
            assert page == slugs[offset : offset + limit], (limit, offset, query)
            if page:
                assert response["X-Total-Count"] == str(len(slugs)), (limit, offset)
                assert ('rel="next"' in response.get("Link", "")) == (offset + limit < len(slugs))


def test_every_page_of_a_long_list_is_the_plain_querys(long_list):
    assert_pages_match(long_list)
    assert_pages_match(long_list)  # the second time from the cached positions
    assert_pages_match(long_list, "character_type=PODCAST_HOST")


def test_pages_follow_each_committed_change(
    long_list, user, other_user, make_character, django_capture_on_commit_callbacks
):
    assert_pages_match(long_list)
    with django_capture_on_commit_callbacks(execute=True):
        make_character(user, slug="newest")
    assert every_slug(long_list)[0] == "newest"
    assert_pages_match(long_list)
    with django_capture_on_commit_callbacks(execute=True):
        assert long_list.delete(f"{URL}long-05/").status_code == 204
    assert_pages_match(long_list)
    with django_capture_on_commit_callbacks(execute=True):
        patch = {"character_type": CharacterType.STORY_TELLER}
        assert long_list.patch(f"{URL}long-02/", patch, format="json").status_code == 200
    assert_pages_match(long_list, "character_type=SUPPORT_AGENT")
    moved = Character.objects.get(slug="long-08")
    moved.owner = other_user
    with django_capture_on_commit_callbacks(execute=True):
        moved.save()
    assert "long-08" not in every_slug(long_list)
    assert_pages_match(long_list)
    assert every_slug(client_for(other_user)) == ["long-08"]


def test_a_row_removed_behind_the_cache_is_not_served_from_it(long_list):
    """Raw SQL skips the signals: a stale anchor matches nothing and the plain query answers."""
    assert_pages_match(long_list)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM characters_character WHERE slug = %s", ["long-03"])
    slugs = every_slug(long_list)
    assert "long-03" not in slugs
    response = long_list.get(f"{URL}?limit=3&offset=9")
    assert [item["slug"] for item in response.json()] == slugs[9:12]


def test_a_deep_page_runs_no_more_queries_than_the_first(long_list):
    def queries(offset):
        long_list.get(f"{URL}?limit=2&offset={offset}")  # positions and bodies cached
        with CaptureQueriesContext(connection) as captured:
            assert long_list.get(f"{URL}?limit=2&offset={offset}").status_code == 200
        return len(captured)

    assert queries(10) == queries(0)


def test_positions_read_before_a_committed_change_are_never_used(
    long_list, user, make_character, django_capture_on_commit_callbacks
):
    """A reader that read the rows before a change commits and stores its positions after the
    change's invalidation: they carry the old token, so the next page does not use them."""
    from django.core.cache import cache

    assert_pages_match(long_list)
    organization = user.default_organization_id  # the list positions are per organization
    token_seen_by_reader = cache.get(positions.token_key(organization))
    assert token_seen_by_reader is not None
    stale = (token_seen_by_reader, COUNT, positions.build(organization, None))
    with django_capture_on_commit_callbacks(execute=True):
        make_character(user, slug="newest")
    cache.set(positions.entry_key(organization, None), stale)  # the late write
    response = long_list.get(f"{URL}?limit=2&offset=3")
    assert response["X-Total-Count"] == str(COUNT + 1)
    assert [item["slug"] for item in response.json()] == every_slug(long_list)[3:5]
