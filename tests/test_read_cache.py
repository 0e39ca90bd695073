"""The read cache (characters/api/read_cache.py): identical responses, one query on a hit, and every
change that alters a character's representation seen by the very next read.

Transactional tests: revisions are bumped inside the writing transaction, so these tests let
every request commit for real, as it does in production.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from characters import services
from characters.api import read_cache
from characters.models import Character, HandoffTarget
from knowledge.models import Document
from knowledge.tasks import save_result
from tests.helpers import DOCUMENTED_EXAMPLE, change_url, form_payload, handoff_payload

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "/api/ai-characters/"
PATHS = [
    LIST,
    f"{LIST}?limit=2&offset=1",
    f"{LIST}?limit=1",
    f"{LIST}?character_type=SUPPORT_AGENT",
]


def detail(slug):
    return f"{LIST}{slug}/"


def snapshot(response):
    return response.status_code, response.content, sorted(response.items())


def uncached(client, path, **headers):
    read_cache.entries.clear()
    return client.get(path, headers=headers)


def assert_fresh(client, *paths):
    """Each path answers, from whatever is cached, exactly what it answers with nothing cached."""
    for path in paths:
        served = client.get(path)
        assert served.status_code == 200
        assert snapshot(served) == snapshot(uncached(client, path)), path
        client.get(path)  # cache it again for the next step


def statements(captured):
    return [
        query["sql"]
        for query in captured
        if not query["sql"].upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))
    ]


@pytest.fixture
def agents(make_character, user):
    """Three characters of the user; `sales` hands off to `support` and has a document."""
    support = make_character(user, slug="support", name="Support", character_type="SUPPORT_AGENT")
    host = make_character(user, slug="host", name="Host", character_type="PODCAST_HOST")
    sales = make_character(user, slug="sales", name="Sales", character_type="SUPPORT_AGENT")
    HandoffTarget.objects.create(source=sales, target=support, position=0)
    Document.objects.create(
        character=sales,
        file=SimpleUploadedFile("faq.txt", b"Questions"),
        file_type="txt",
    )
    return {"support": support, "host": host, "sales": sales}


@pytest.fixture
def warm(auth_client, agents):
    """Every read of the user's characters cached; returns the cached bodies."""

    def bodies():
        paths = [detail(slug) for slug in agents] + PATHS
        return {path: auth_client.get(path).content for path in paths}

    return bodies


def all_paths(agents):
    return [detail(slug) for slug in agents] + PATHS


# --- identical responses ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["sales", "support", *PATHS])
def test_first_and_cached_responses_are_identical(auth_client, agents, path):
    path = detail(path) if not path.startswith("/") else path
    first = auth_client.get(path)
    second = auth_client.get(path)
    assert first.status_code == 200
    assert snapshot(first) == snapshot(second)
    assert len(read_cache.entries) > 0
    assert snapshot(second) == snapshot(uncached(auth_client, path))


def test_list_fills_entries_that_retrieve_serves_identically(auth_client, agents):
    auth_client.get(LIST)
    with CaptureQueriesContext(connection) as captured:
        served = auth_client.get(detail("sales"))
    assert len(statements(captured)) == 1
    assert snapshot(served) == snapshot(uncached(auth_client, detail("sales")))
    assert served["ETag"]


def test_paged_list_headers(auth_client, agents):
    auth_client.get(LIST)
    served = auth_client.get(f"{LIST}?limit=1&offset=1")
    assert served["X-Total-Count"] == "3"
    assert 'rel="next"' in served["Link"] and 'rel="prev"' in served["Link"]
    assert [item["slug"] for item in served.json()] == ["host"]


@pytest.mark.parametrize("path", ["sales", LIST, f"{LIST}?limit=2&offset=1"])
def test_a_hit_runs_exactly_one_query(auth_client, agents, path):
    path = detail(path) if not path.startswith("/") else path
    auth_client.get(path)
    with CaptureQueriesContext(connection) as captured:
        assert auth_client.get(path).status_code == 200
    assert len(statements(captured)) == 1


def test_a_hit_stays_one_query_whatever_the_links_and_page_size(
    auth_client, user, agents, make_character
):
    def hit_statements(path):
        auth_client.get(path)
        with CaptureQueriesContext(connection) as captured:
            assert auth_client.get(path).status_code == 200
        return len(statements(captured))

    few = [hit_statements(path) for path in (detail("sales"), LIST, f"{LIST}?limit=3")]
    for number in range(6):
        extra = make_character(user, slug=f"extra-{number}")
        HandoffTarget.objects.create(source=agents["sales"], target=extra, position=number + 1)
    many = [hit_statements(path) for path in (detail("sales"), LIST, f"{LIST}?limit=8")]
    assert many == few == [1, 1, 1]


def test_if_none_match_is_honoured_from_the_cache(auth_client, agents):
    etag = auth_client.get(detail("sales"))["ETag"]
    cached = auth_client.get(detail("sales"), headers={"If-None-Match": etag})
    fresh = uncached(auth_client, detail("sales"), **{"If-None-Match": etag})
    assert cached.status_code == 304
    assert snapshot(cached) == snapshot(fresh)


def test_head_and_other_hosts(auth_client, agents):
    auth_client.get(detail("sales"))
    head = auth_client.head(detail("sales"))
    assert head.status_code == 200
    other_host = auth_client.get(detail("sales"), headers={"Host": "api.example.com"})
    assert snapshot(other_host) == snapshot(
        uncached(auth_client, detail("sales"), Host="api.example.com")
    )


def test_indented_and_searched_reads_are_not_served_from_the_cache(auth_client, agents):
    auth_client.get(LIST)
    indented = auth_client.get(LIST, headers={"Accept": "application/json; indent=2"})
    assert indented.content.startswith(b"[\n")
    searched = auth_client.get(f"{LIST}?search=sal")
    assert [item["slug"] for item in searched.json()] == ["sales"]


# --- memory ---------------------------------------------------------------------------------


def test_the_cache_is_bounded_in_bytes():
    bound, body = 10_000, b"x" * 1000
    lru = read_cache.LRU(bound)
    for number in range(100):
        lru.put(number, body)
    assert lru.size_bytes <= bound
    assert len(lru) == bound // (len(body) + read_cache.ENTRY_OVERHEAD_BYTES)
    assert lru.get(99) is not None and lru.get(0) is None  # the least recently used went
    lru.put("huge", b"x" * bound)
    assert lru.get("huge") is None and lru.size_bytes <= bound


# --- ownership and authentication ------------------------------------------------------------


def test_other_owner_gets_the_same_404(auth_client, other_client, agents):
    auth_client.get(detail("sales"))
    stolen = other_client.get(detail("sales"))
    missing = other_client.get(detail("no-such-agent"))
    assert stolen.status_code == 404
    assert snapshot(stolen) == snapshot(missing)
    assert other_client.get(LIST).json() == []


@pytest.mark.parametrize("change", ["deactivated", "deleted"])
@pytest.mark.parametrize("path", ["sales", LIST, f"{LIST}?limit=2"])
def test_cached_reads_still_reject_a_gone_user(auth_client, user, agents, change, path):
    path = detail(path) if not path.startswith("/") else path
    assert auth_client.get(path).status_code == 200
    if change == "deactivated":
        user.is_active = False
        user.save()
    else:
        user.delete()
    response = auth_client.get(path)
    assert response.status_code == 401
    expected = {"deactivated": "user_inactive", "deleted": "user_not_found"}[change]
    assert response.json()["code"] == expected


# --- every change is seen by the next read ---------------------------------------------------


def changed(auth_client, agents, before, *paths):
    """The reads named changed, and every read equals its uncached answer."""
    for path in paths:
        assert auth_client.get(path).content != before[path], path
    assert_fresh(auth_client, *all_paths(agents))


def test_patch_and_put(auth_client, agents, warm):
    before = warm()
    assert auth_client.patch(detail("host"), {"greeting": "Hi"}, format="json").status_code == 200
    changed(auth_client, agents, before, detail("host"), LIST)
    before = warm()
    body = {"slug": "host", "name": "Host 2"}
    assert auth_client.put(detail("host"), body, format="json").status_code == 200
    changed(auth_client, agents, before, detail("host"), LIST)


def test_tools_change(auth_client, agents, warm):
    before = warm()
    body = {"tools": DOCUMENTED_EXAMPLE["tools"][:1]}
    assert auth_client.patch(detail("sales"), body, format="json").status_code == 200
    changed(auth_client, agents, before, detail("sales"), LIST)


def test_handoff_targets_via_the_api(auth_client, agents, warm):
    before = warm()
    body = {"handoff_targets": [{"slug": "host"}, {"slug": "support"}]}
    assert auth_client.patch(detail("sales"), body, format="json").status_code == 200
    changed(auth_client, agents, before, detail("sales"))


def test_handoff_target_renamed(auth_client, agents, warm):
    before = warm()
    assert auth_client.patch(detail("support"), {"name": "Help"}, format="json").status_code == 200
    changed(auth_client, agents, before, detail("sales"), detail("support"))
    assert auth_client.get(detail("sales")).json()["handoff_targets"][0]["name"] == "Help"


def test_handoff_target_deleted(auth_client, agents, warm):
    before = warm()
    assert auth_client.delete(detail("support")).status_code == 204
    assert auth_client.get(detail("sales")).content != before[detail("sales")]
    assert auth_client.get(detail("sales")).json()["handoff_targets"] == []
    assert_fresh(auth_client, detail("sales"), detail("host"), LIST)


def test_admin_save(admin_client, auth_client, agents, warm):
    before = warm()
    payload = form_payload(admin_client.get(change_url(agents["support"])))
    payload["name"] = "Support (admin)"
    assert admin_client.post(change_url(agents["support"]), payload).status_code == 302
    changed(auth_client, agents, before, detail("support"), detail("sales"), LIST)


@pytest.mark.parametrize("targets", [["host"], [], ["host", "support"]])
def test_admin_handoff_inline(admin_client, auth_client, agents, warm, targets):
    before = warm()
    sales = agents["sales"]
    payload = handoff_payload(admin_client, sales, [agents[slug] for slug in targets])
    assert admin_client.post(change_url(sales), payload).status_code == 302
    changed(auth_client, agents, before, detail("sales"))
    shown = [t["slug"] for t in auth_client.get(detail("sales")).json()["handoff_targets"]]
    assert shown == targets


def test_admin_handoff_inline_reordered(admin_client, auth_client, agents, warm):
    sales = agents["sales"]
    HandoffTarget.objects.create(source=sales, target=agents["host"], position=1)
    before = warm()
    payload = form_payload(admin_client.get(change_url(sales)))
    for index in range(int(payload["handoff_links-INITIAL_FORMS"])):
        is_host = payload[f"handoff_links-{index}-target"] == str(agents["host"].pk)
        payload[f"handoff_links-{index}-position"] = "0" if is_host else "1"
    response = admin_client.post(change_url(sales), payload)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    changed(auth_client, agents, before, detail("sales"))
    shown = [t["slug"] for t in auth_client.get(detail("sales")).json()["handoff_targets"]]
    assert shown == ["host", "support"]


def test_document_uploaded_and_processed(auth_client, agents, warm):
    before = warm()
    upload = SimpleUploadedFile("notes.txt", b"some notes " * 20, content_type="text/plain")
    url = "/api/knowledge-base/host/documents/"
    assert auth_client.post(url, {"file": upload}, format="multipart").status_code == 201
    changed(auth_client, agents, before, detail("host"), LIST)
    documents = auth_client.get(detail("host")).json()["documents"]
    assert [document["status"] for document in documents] == ["PROCESSED"]


def test_document_status_set_by_the_task(auth_client, agents, warm):
    before = warm()
    document = Document.objects.get(character=agents["sales"])
    save_result(document.pk, status=Document.Status.FAILED, error="Unreadable")
    changed(auth_client, agents, before, detail("sales"), LIST)
    assert auth_client.get(detail("sales")).json()["documents"][0]["error"] == "Unreadable"


def test_document_deleted(auth_client, agents, warm):
    before = warm()
    document = Document.objects.get(character=agents["sales"])
    url = f"/api/knowledge-base/sales/documents/{document.pk}/"
    assert auth_client.delete(url).status_code == 204
    changed(auth_client, agents, before, detail("sales"), LIST)


def test_character_created_and_deleted(auth_client, agents, warm):
    before = warm()
    assert auth_client.post(LIST, {"slug": "new", "name": "New"}, format="json").status_code == 201
    changed(auth_client, agents, before, LIST)
    assert auth_client.delete(detail("new")).status_code == 204
    assert json.loads(auth_client.get(LIST).content) == json.loads(before[LIST])


def test_every_save_gives_a_new_revision(agents):
    sales = agents["sales"]
    revision = Character.objects.get(pk=sales.pk).revision
    sales.save(update_fields=["greeting"])
    assert Character.objects.get(pk=sales.pk).revision not in (revision, None)


def test_entries_are_bounded_in_bytes(auth_client, agents, monkeypatch, settings):
    assert read_cache.entries.max_bytes == settings.READ_CACHE_MAX_BYTES
    largest = len(auth_client.get(detail("sales")).content) + read_cache.ENTRY_OVERHEAD_BYTES
    read_cache.entries.clear()
    monkeypatch.setattr(read_cache.entries, "max_bytes", largest + 1)  # room for one entry
    auth_client.get(LIST)
    assert len(read_cache.entries) == 1
    assert read_cache.entries.size_bytes <= largest + 1
    assert snapshot(auth_client.get(LIST)) == snapshot(uncached(auth_client, LIST))


def test_a_bulk_update_of_characters_is_seen(auth_client, agents, warm):
    before = warm()
    services.update_characters(Character.objects.filter(slug="sales"), name="Renamed")
    assert auth_client.get(detail("sales")).json()["name"] == "Renamed"
    assert warm() != before


def test_link_changes_without_any_signal_are_seen(auth_client, agents, warm):
    # QuerySet.update and bulk_create send no signal: the read query sees the links themselves.
    sales = agents["sales"]
    HandoffTarget.objects.bulk_create([HandoffTarget(source=sales, target=agents["host"])])
    before = warm()
    HandoffTarget.objects.filter(source=sales, target=agents["host"]).update(position=0)
    HandoffTarget.objects.filter(source=sales, target=agents["support"]).update(position=1)
    changed(auth_client, agents, before, detail("sales"))
    shown = [t["slug"] for t in auth_client.get(detail("sales")).json()["handoff_targets"]]
    assert shown == ["host", "support"]


@pytest.mark.parametrize("path", ["sales", LIST])
def test_cached_reads_are_still_throttled(auth_client, agents, settings, path):
    path = detail(path) if not path.startswith("/") else path
    settings.API_THROTTLE_RATE = "3/minute"
    for _ in range(3):
        assert auth_client.get(path).status_code == 200
    refused = auth_client.get(path)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
