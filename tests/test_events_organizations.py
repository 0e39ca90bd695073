"""The audit log and webhook endpoints belong to the acting organization: its owners and
admins manage them, other roles get DESIGN's 403, another organization's are a 404, and a
teammate's change is in the organization's feed."""

import pytest

from accounts.organizations import services
from accounts.organizations.models import Membership
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

ACME = {"HTTP_X_ORGANIZATION": "acme"}
ENDPOINT = {"url": "https://127.0.0.1:8399/in", "events": ["character.*"]}


@pytest.fixture
def acme(make_user, settings):
    # No request is sent: a loopback address, with the network rule lifted for the test.
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    founder = make_user("founder@example.com")
    organization = services.create_organization("Acme", founder, slug="acme")
    members = {"owner": founder}
    for role in ("admin", "editor", "viewer"):
        members[role] = make_user(f"{role}@example.com")
        Membership.objects.create(organization=organization, user=members[role], role=role)
    return members


@pytest.mark.parametrize(
    "role, allowed", [("owner", True), ("admin", True), ("editor", False), ("viewer", False)]
)
def test_only_owners_and_admins_read_the_log_and_manage_endpoints(acme, role, allowed):
    client = client_for(acme[role])
    log = client.get("/api/events/", **ACME)
    created = client.post("/api/webhooks/", ENDPOINT, format="json", **ACME)
    if allowed:
        assert (log.status_code, created.status_code) == (200, 201), created.content
    else:
        assert (log.status_code, created.status_code) == (403, 403)
        assert created.json()["detail"].startswith(f"Your role ({role}) in this organization")


def test_a_teammates_change_is_in_the_organizations_feed(acme):
    editor = client_for(acme["editor"])
    body = {"slug": "team-bot", "name": "Team"}
    assert editor.post("/api/ai-characters/", body, format="json", **ACME).status_code == 201
    events = client_for(acme["admin"]).get("/api/events/", {"type": "character.*"}, **ACME)
    assert [event["type"] for event in events.json()] == ["character.created"]
    # The editor's personal organization saw nothing of it.
    assert client_for(acme["owner"]).get("/api/events/").json() == []


def test_another_organizations_endpoint_is_a_404(acme, make_user):
    created = client_for(acme["owner"]).post("/api/webhooks/", ENDPOINT, format="json", **ACME)
    assert created.status_code == 201, created.content
    stranger = client_for(make_user("stranger@example.com"))
    assert stranger.get(f"/api/webhooks/{created.json()['id']}/").status_code == 404
    assert stranger.get("/api/webhooks/").json() == []


@pytest.fixture
def acme_log(acme):
    """The acme log holds events, so its page's one statement (not the fallback) decides."""
    body = {"slug": "log-bot", "name": "Log"}
    created = client_for(acme["owner"]).post("/api/ai-characters/", body, format="json", **ACME)
    assert created.status_code == 201, created.content
    return acme


@pytest.mark.parametrize(
    "role, status", [("owner", 200), ("admin", 200), ("editor", 403), ("viewer", 403)]
)
def test_a_log_with_events_is_read_by_its_owners_and_admins_only(acme_log, role, status):
    response = client_for(acme_log[role]).get("/api/events/", **ACME)
    assert response.status_code == status
    if status == 200:
        assert [event["type"] for event in response.json()] == ["character.created"]
    else:
        assert response.json()["detail"].startswith(f"Your role ({role}) in this organization")


def test_the_log_is_the_default_organizations_unless_one_is_named(acme_log):
    owner = acme_log["owner"]
    assert client_for(owner).get("/api/events/").json() == []  # their personal organization
    owner.default_organization = Membership.objects.get(
        user=owner, role="owner", organization__slug="acme"
    ).organization
    owner.save()
    assert len(client_for(owner).get("/api/events/").json()) == 1
    assert client_for(owner).get("/api/events/", HTTP_X_ORGANIZATION="nope").status_code == 404


def test_a_stranger_naming_the_organization_gets_a_404(acme_log, make_user):
    stranger = client_for(make_user("stranger@example.com"))
    assert stranger.get("/api/events/", **ACME).status_code == 404


@pytest.mark.parametrize("gone", ["deactivated", "deleted"])
def test_the_token_of_an_admin_no_longer_active_is_a_401(acme_log, gone):
    admin = acme_log["admin"]
    client = client_for(admin)
    assert client.get("/api/events/", **ACME).status_code == 200
    if gone == "deleted":
        admin.delete()
    else:
        admin.is_active = False
        admin.save()
    response = client.get("/api/events/", **ACME)
    assert response.status_code == 401
    assert response.json()["code"] == (
        "user_inactive" if gone == "deactivated" else "user_not_found"
    )


def test_a_page_is_one_statement_however_many_events(acme_log):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(acme_log["admin"])
    counts = []
    for _ in range(2):
        for index in range(5):
            body = {"name": f"Renamed {index} {len(counts)}"}
            owner = client_for(acme_log["owner"])
            owner.patch("/api/ai-characters/log-bot/", body, format="json", **ACME)
        with CaptureQueriesContext(connection) as captured:
            assert len(client.get("/api/events/", {"limit": 200}, **ACME).json()) > 1
        counts.append(sum(1 for query in captured if query["sql"].lstrip().startswith("SELECT")))
    assert counts == [1, 1]
