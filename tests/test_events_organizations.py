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
