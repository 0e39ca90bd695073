"""GET /api/events/ (the audit log): the caller's scope only, newest first, filters, a
cursor in the Link header and no total; retention pruning; the admin's read-only log."""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.admin.utils import quote
from django.core.management import call_command
from django.utils import timezone

from events.models import Event

pytestmark = pytest.mark.django_db

URL = "/api/events/"


def make_events(owner, count, type="character.updated", **fields):
    now = timezone.now()
    fields = {"actor_type": "user", "actor_id": str(owner.pk), **fields}
    return [
        Event.objects.create(
            type=type,
            organization=str(owner.default_organization_id),
            subject_type="character",
            subject_id="7",
            created_at=now - timedelta(seconds=count - index),
            **fields,
        )
        for index in range(count)
    ]


def next_link(response):
    link = response.headers.get("Link")
    if link is None:
        return None
    url = link.split(";")[0].strip("<>")
    return urlsplit(url)


def test_anonymous_is_401(api_client):
    assert api_client.get(URL).status_code == 401


def test_only_the_callers_scope_newest_first(auth_client, user, other_user):
    mine = make_events(user, 3)
    make_events(other_user, 2)
    body = auth_client.get(URL).json()
    assert [event["id"] for event in body] == [event.id for event in reversed(mine)]
    first = body[0]
    assert set(first) == {
        "id",
        "type",
        "created_at",
        "organization",
        "actor",
        "ip",
        "request_id",
        "subject",
        "data",
    }
    assert first["id"].startswith("evt_")
    assert first["actor"] == {"type": "user", "id": str(user.pk), "label": ""}
    assert first["subject"] == {"type": "character", "id": "7"}


def test_the_cursor_walks_every_event_once_without_a_total(auth_client, user):
    events = make_events(user, 7)
    seen, response = [], auth_client.get(URL, {"limit": 3, "type": "character.*"})
    while True:
        assert response.status_code == 200
        assert "X-Total-Count" not in response.headers
        seen += [event["id"] for event in response.json()]
        link = next_link(response)
        if link is None:
            break
        assert parse_qs(link.query)["type"] == ["character.*"]
        response = auth_client.get(f"{link.path}?{link.query}")
    assert seen == [event.id for event in reversed(events)]


def test_filters_by_type_prefix_subject_actor_and_time(auth_client, user):
    [old] = make_events(user, 1, type="call.started")
    updated = make_events(user, 2)
    keyed = make_events(user, 1, type="api_key.created", actor_type="api_key", actor_id="9")
    start = timezone.now() - timedelta(hours=1)
    for minutes, event in enumerate([old, *updated, *keyed]):
        Event.objects.filter(pk=event.pk).update(created_at=start + timedelta(minutes=minutes))

    def ids(**params):
        return [event["id"] for event in auth_client.get(URL, params).json()]

    assert ids(type="character.*") == [e.id for e in reversed(updated)]
    assert ids(type="call.started") == [old.id]
    assert ids(type="call") == []  # a bare word is one type, not a prefix
    assert len(ids(subject="character:7")) == 4
    assert ids(subject="character:8") == []
    assert ids(actor="api_key:9") == [keyed[0].id]
    assert ids(actor="api_key") == [keyed[0].id]
    since, until = start + timedelta(minutes=1), start + timedelta(minutes=3)
    assert ids(since=since.isoformat(), until=until.isoformat()) == [
        e.id for e in reversed(updated)
    ]


def test_filter_values_are_literal_and_each_call_gets_its_own(auth_client, user):
    """A page's statement is compiled once per shape of query (events/selectors.py): each
    call's values are its own, and LIKE's wildcards in a prefix match only themselves."""
    for type, subject in (("api_key.created", "1"), ("apixkey.created", "2")):
        Event.objects.create(
            type=type,
            organization=str(user.default_organization_id),
            actor_type="user",
            subject_type="api_key",
            subject_id=subject,
        )

    def types(**params):
        return [event["type"] for event in auth_client.get(URL, params).json()]

    assert types(type="api_key.*") == ["api_key.created"]
    assert types(type="apixkey.*") == ["apixkey.created"]
    assert types(type="api%") == types(type="%.*") == types(type="_pi_key.") == []
    assert types(subject="api_key:2") == ["apixkey.created"]
    assert types(subject="api_key:1") == ["api_key.created"]
    assert types(subject="api_key:") == types(subject="api_key") != []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"cursor": "not a cursor!"}, "cursor"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(auth_client, params, field):
    response = auth_client.get(URL, params)
    assert response.status_code == 400
    assert field in str(response.json())


def test_a_real_change_is_in_the_log(auth_client, user):
    auth_client.post("/api/ai-characters/", {"name": "Logged", "slug": "logged"}, format="json")
    [event] = auth_client.get(URL, {"type": "character.*"}).json()
    assert event["type"] == "character.created"
    assert event["data"]["slug"] == "logged"
    assert event["actor"]["label"] == user.email


def test_retention_prunes_old_events(settings, user):
    settings.EVENT_RETENTION_DAYS = 30
    [old] = make_events(user, 1)
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    [recent] = make_events(user, 1)
    call_command("run_events_maintenance")
    assert list(Event.objects.values_list("pk", flat=True)) == [recent.pk]


def test_the_admin_log_is_read_only_and_filterable(client, make_user, user):
    admin = make_user("admin@example.com", is_staff=True, is_superuser=True)
    [event] = make_events(user, 1, type="call.ended")
    client.force_login(admin)
    listing = client.get("/admin/events/event/", {"type__exact": "call.ended"})
    assert listing.status_code == 200 and quote(event.id) in listing.content.decode()
    assert client.get("/admin/events/event/add/").status_code == 403
    page = client.get(f"/admin/events/event/{quote(event.id)}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content


def test_each_change_of_a_character_is_one_event_of_its_type(auth_client):
    """Created, updated, published (a rollback too), restored, duplicated (on the copy) and
    deleted: one event each, never an updated beside it, with `slug`, `version`, `changed`."""
    characters = "/api/ai-characters/"
    shop = f"{characters}shop/"
    auth_client.post(characters, {"slug": "shop", "name": "Shop"}, format="json")
    auth_client.patch(shop, {"greeting": "Hi"}, format="json")
    auth_client.patch(shop, {"publishing": "manual"}, format="json")
    auth_client.patch(shop, {"greeting": "Hello"}, format="json")
    auth_client.post(f"{shop}publish/", {"version": 2, "note": "Go"}, format="json")
    assert auth_client.post(f"{shop}versions/1/restore/").status_code == 200
    duplicated = auth_client.post(f"{shop}duplicate/", {"slug": "shop-copy"}, format="json")
    assert duplicated.status_code == 201
    assert auth_client.delete(shop).status_code == 204

    events = list(reversed(auth_client.get(URL, {"type": "character.*"}).json()))
    assert [(e["type"], e["data"]["slug"]) for e in events] == [
        ("character.created", "shop"),
        ("character.updated", "shop"),
        ("character.updated", "shop"),  # publishing: how versions go live, in no version
        ("character.updated", "shop"),
        ("character.published", "shop"),
        ("character.restored", "shop"),
        ("character.duplicated", "shop-copy"),
        ("character.deleted", "shop"),
    ]
    data = [{k: v for k, v in e["data"].items() if k != "slug"} for e in events]
    assert data[0] == {"version": 1, "published_version": 1, "changed": ["slug", "name"]}
    assert data[1] == {"version": 2, "published_version": 2, "changed": ["greeting"]}
    assert data[2]["changed"] == []
    assert data[3] == {"version": 3, "published_version": 2, "changed": ["greeting"]}
    assert data[4] == {"version": 3, "published_version": 2, "changed": [], "note": "Go"}
    assert data[5] == {"version": 4, "published_version": 2, "changed": ["greeting"]}
    assert data[6]["duplicated_from"] == {"slug": "shop", "version": 4}
    assert (data[6]["version"], data[6]["published_version"]) == (1, None)
    assert "name" in data[6]["changed"]
    assert data[7]["changed"] == []


def test_events_of_the_same_instant_are_each_paged_once(auth_client, user):
    """The cursor's bound (created_at <=) keeps the id as a tie-breaker within an instant."""
    made = make_events(user, 5)
    Event.objects.filter(pk__in=[event.pk for event in made]).update(created_at=made[0].created_at)
    seen, url = [], f"{URL}?limit=2"
    while url:
        response = auth_client.get(url)
        seen += [event["id"] for event in response.json()]
        link = next_link(response)
        url = f"{link.path}?{link.query}" if link else None
    assert seen == sorted((event.id for event in made), reverse=True)


def test_an_event_renders_as_its_declared_fields_say(auth_client, user):
    """A page is written directly (its data as stored, its times by orjson): what a client
    reads is what DRF's declared fields and JSON renderer would write."""
    from rest_framework import serializers
    from rest_framework.renderers import JSONRenderer

    from events.api.serializers import EventSerializer

    data = {"a": [1, {"b": None}], "naïve": '☎ \u2028 "quoted"', "n": 1.5, "big": 2**53}
    event = make_events(user, 1, ip="203.0.113.9", request_id="req-1", data=data)[0]
    Event.objects.create(
        type="call.ended",
        organization=str(user.default_organization_id),
        actor_type="system",
        subject_type="call",
        subject_id="s",
        # A whole second: DRF writes no fraction for it.
        created_at=event.created_at.replace(microsecond=0) + timedelta(seconds=5),
    )
    response = auth_client.get(URL)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    expected = [
        JSONRenderer().render(serializers.ModelSerializer.to_representation(EventSerializer(), e))
        for e in Event.objects.order_by("-created_at")
    ]
    assert response.json() == [json.loads(one) for one in expected]
    whole_second = response.json()[0]["created_at"]
    assert whole_second.endswith("Z") and "." not in whole_second
