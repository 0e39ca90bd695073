"""publishing "manual": the public paths (widget fetch, session start, form submission, the
runtime body) serve the published version; "auto" behaves as before."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.helpers import (
    WIDGET_ORIGIN,
    form_responses_url,
    runtime_url,
    start_call,
    worker_client,
)

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"
LIVE = {"system_prompt": "Live prompt.", "widget_appearance": {"name": "Live name"}}
DRAFT = {"system_prompt": "Draft prompt.", "widget_appearance": {"name": "Draft name"}}


def detail(slug, *rest):
    return f"{URL}{slug}/" + "".join(f"{part}/" for part in rest)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run `request()` as a committed change: what follows it on commit (the widget cache's
    token replaced, characters/changes.py) runs too."""

    def run(request):
        with django_capture_on_commit_callbacks(execute=True):
            return request()

    return run


def appearance_name(slug="shop"):
    response = APIClient().get(f"/api/agents/{slug}/appearance/", HTTP_ORIGIN=WIDGET_ORIGIN)
    return response.json()["name"] if response.status_code == 200 else response.status_code


def runtime_prompt(slug="shop"):
    response = start_call(APIClient(), agent=slug)
    if response.status_code != 200:
        return response.status_code
    runtime = worker_client().get(runtime_url(response.json()["session_id"]))
    assert runtime.status_code == 200, runtime.content
    return runtime.json()["system_prompt"]


@pytest.fixture
def shop(auth_client, calls_settings):
    body = {"slug": "shop", "name": "Shop", "allowed_origins": [WIDGET_ORIGIN], **LIVE}
    assert auth_client.post(URL, body).status_code == 201
    return "shop"


@pytest.fixture
def manual_shop(auth_client, shop):
    response = auth_client.patch(detail(shop), {"publishing": "manual"})
    assert response.status_code == 200
    return shop


def test_auto_is_the_default_every_version_live_and_publish_is_a_409(auth_client, shop):
    body = auth_client.get(detail(shop)).json()
    assert (body["publishing"], body["version"], body["published_version"]) == ("auto", 1, 1)
    assert body["has_unpublished_changes"] is False
    patched = auth_client.patch(detail(shop), DRAFT).json()
    assert (patched["version"], patched["published_version"]) == (2, 2)
    assert appearance_name() == "Draft name" and runtime_prompt() == "Draft prompt."
    response = auth_client.post(detail(shop, "publish"), {})
    assert response.status_code == 409 and "auto" in response.json()["detail"]


def test_switching_to_manual_records_no_version_and_keeps_what_is_live(auth_client, shop):
    body = auth_client.patch(detail(shop), {"publishing": "manual"}).json()
    assert (body["version"], body["published_version"]) == (1, 1)
    assert body["has_unpublished_changes"] is False
    assert len(auth_client.get(detail(shop, "versions")).json()) == 1


def test_a_draft_is_not_what_the_public_meets_until_published(auth_client, manual_shop, committed):
    draft = auth_client.patch(detail(manual_shop), DRAFT).json()
    assert (draft["version"], draft["published_version"]) == (2, 1)
    assert draft["has_unpublished_changes"] is True
    # The owner's API shows the newest version, the public paths the published one.
    assert auth_client.get(detail(manual_shop)).json()["system_prompt"] == "Draft prompt."
    assert appearance_name() == "Live name"
    assert runtime_prompt() == "Live prompt."

    published = committed(lambda: auth_client.post(detail(manual_shop, "publish"), {}))
    assert published.status_code == 200
    assert published.json()["published_version"] == 2
    assert published.json()["has_unpublished_changes"] is False
    assert published["ETag"] == auth_client.get(detail(manual_shop))["ETag"]
    assert appearance_name() == "Draft name"
    assert runtime_prompt() == "Draft prompt."
    versions = auth_client.get(detail(manual_shop, "versions")).json()
    assert versions[0]["published_at"] is not None


def test_publishing_an_older_version_rolls_back(auth_client, manual_shop, committed):
    auth_client.patch(detail(manual_shop), DRAFT)
    auth_client.post(detail(manual_shop, "publish"), {})
    assert appearance_name() == "Draft name"
    rolled = committed(lambda: auth_client.post(detail(manual_shop, "publish"), {"version": 1}))
    assert rolled.status_code == 200
    assert (rolled.json()["version"], rolled.json()["published_version"]) == (2, 1)
    assert appearance_name() == "Live name"
    assert runtime_prompt() == "Live prompt."


def test_a_manual_character_never_published_is_a_404_in_public(
    auth_client, calls_settings, committed
):
    body = {"slug": "fresh", "name": "F", "allowed_origins": [WIDGET_ORIGIN]}
    created = auth_client.post(URL, {**body, "publishing": "manual"}).json()
    assert (created["published_version"], created["has_unpublished_changes"]) == (None, True)
    assert appearance_name("fresh") == 404
    assert runtime_prompt("fresh") == 404
    assert committed(lambda: auth_client.post(detail("fresh", "publish"), {})).status_code == 200
    assert appearance_name("fresh") == "Voice Assistant"


def test_form_submissions_are_checked_against_the_published_forms(
    auth_client, api_client, sales_agent, form_settings
):
    auth_client.patch(detail("sales-agent"), {"publishing": "manual"})
    appearance = auth_client.get(detail("sales-agent")).json()["widget_appearance"]
    draft_form = {
        "id": "draft-form",
        "title": "Draft",
        "submit_url": None,
        "fields": [{"name": "x"}],
    }
    appearance["forms"].append(draft_form)
    assert (
        auth_client.patch(detail("sales-agent"), {"widget_appearance": appearance}).status_code
        == 200
    )
    session = start_call(api_client, agent="sales-agent", origin="https://acme.com").json()
    body = {"form_id": "draft-form", "session_id": session["session_id"], "values": {"x": "1"}}
    headers = {"HTTP_ORIGIN": "https://acme.com"}
    refused = api_client.post(form_responses_url(), body, format="json", **headers)
    assert refused.status_code == 400 and "form_id" in refused.json()
    auth_client.post(detail("sales-agent", "publish"), {})
    accepted = api_client.post(form_responses_url(), body, format="json", **headers)
    assert accepted.status_code == 201, accepted.content


def test_a_put_that_omits_publishing_keeps_it(auth_client, manual_shop):
    response = auth_client.put(detail(manual_shop), {"slug": manual_shop, "name": "Replaced"})
    assert response.json()["publishing"] == "manual"
    assert response.json()["has_unpublished_changes"] is True


def test_back_to_auto_makes_the_newest_live(auth_client, manual_shop):
    auth_client.patch(detail(manual_shop), DRAFT)
    body = auth_client.patch(detail(manual_shop), {"publishing": "auto"}).json()
    assert (body["version"], body["published_version"]) == (2, 2)
    assert appearance_name() == "Draft name"


@pytest.mark.parametrize(("version", "status"), [(9, 400), (0, 400), ("1", 400)])
def test_publishing_a_version_that_does_not_exist_is_a_400(
    auth_client, manual_shop, version, status
):
    response = auth_client.post(detail(manual_shop, "publish"), {"version": version})
    assert response.status_code == status and "version" in response.json()


def test_publish_honours_if_match_and_is_the_owners(auth_client, other_client, manual_shop):
    stale = auth_client.get(detail(manual_shop))["ETag"]
    auth_client.patch(detail(manual_shop), DRAFT)
    refused = auth_client.post(detail(manual_shop, "publish"), {}, HTTP_IF_MATCH=stale)
    assert refused.status_code == 412
    assert appearance_name() == "Live name"
    assert other_client.post(detail(manual_shop, "publish"), {}).status_code == 404
    assert APIClient().post(detail(manual_shop, "publish"), {}).status_code == 401
    assert appearance_name() == "Live name"


def test_publishing_a_number_past_any_column_is_a_400(auth_client, manual_shop):
    response = auth_client.post(detail(manual_shop, "publish"), {"version": 2**31})
    assert response.status_code == 400 and "version" in response.json()


def test_a_publish_keeps_its_note_on_the_version_and_in_its_event(auth_client, manual_shop):
    auth_client.patch(detail(manual_shop), DRAFT)
    response = auth_client.post(
        detail(manual_shop, "publish"), {"version": 2, "note": "  Spring campaign  "}
    )
    assert response.status_code == 200, response.content
    versions = auth_client.get(detail(manual_shop, "versions")).json()
    assert [(v["version"], v["published_note"]) for v in versions] == [
        (2, "Spring campaign"),
        (1, ""),
    ]
    [event] = auth_client.get("/api/events/", {"type": "character.published"}).json()
    assert event["data"]["note"] == "Spring campaign"
    # A rollback to version 1 is a publish with its own note; version 2 keeps the one it had.
    auth_client.post(detail(manual_shop, "publish"), {"version": 1, "note": "Back"})
    versions = auth_client.get(detail(manual_shop, "versions")).json()
    assert [v["published_note"] for v in versions] == ["Spring campaign", "Back"]


@pytest.mark.parametrize(("note", "status"), [("x" * 500, 200), ("x" * 501, 400), (7, 400)])
def test_a_publish_note_is_text_of_at_most_500_characters(auth_client, manual_shop, note, status):
    response = auth_client.post(detail(manual_shop, "publish"), {"note": note})
    assert response.status_code == status, response.content
    if status == 400:
        assert set(response.json()) == {"note"}
        assert auth_client.get(detail(manual_shop)).json()["published_version"] == 1
        assert auth_client.get(detail(manual_shop, "versions")).json()[0]["published_note"] == ""


def test_a_warm_widget_fetch_of_a_published_version_runs_no_sql(auth_client, manual_shop):
    """Issue 31: the public paths keep their speed with a manual character. The published
    version is rebuilt from its stored snapshot on a miss, then served from the widget cache:
    a hit reads no row, not the character and not its version."""
    assert auth_client.patch(detail(manual_shop), DRAFT).status_code == 200  # a newer draft
    assert appearance_name() == "Live name"  # the miss, which fills the cache
    with CaptureQueriesContext(connection) as captured:
        assert appearance_name() == "Live name"
    assert [query["sql"] for query in captured] == []
