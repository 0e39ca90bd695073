"""DESIGN's role table, endpoint by endpoint: every role by every scoped endpoint and method.

Each member acts in the team organization `acme` with `X-Organization: acme` (their default
is their personal one). A refusal is a 403 naming the member's role, and changes nothing.
"""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.organizations import services
from accounts.organizations.models import Membership
from calls.models import CallSession
from characters.models import Character
from knowledge.models import Document
from tests.helpers import client_for, upload, words

ROLES = ("owner", "admin", "editor", "viewer")
ANY = dict.fromkeys(ROLES)  # every role may: the status is the case's own
CHARACTERS = "/api/ai-characters/"
DOCUMENTS = "/api/knowledge-base/acme-bot/documents/"
ORGANIZATION = "/api/organizations/acme/"


def expect(ok, least):
    """`ok` for `least` and every role above it, 403 below."""
    allowed = ROLES[: ROLES.index(least) + 1]
    return {role: ok if role in allowed else 403 for role in ROLES}


# (name, method, path, body or a callable(team) -> body, format, expected status per role)
CASES = [
    ("list characters", "get", CHARACTERS, None, "json", expect(200, "viewer")),
    ("retrieve a character", "get", f"{CHARACTERS}acme-bot/", None, "json", expect(200, "viewer")),
    (
        "create a character",
        "post",
        CHARACTERS,
        {"slug": "new-bot", "name": "New"},
        "json",
        expect(201, "editor"),
    ),
    (
        "edit a character",
        "patch",
        f"{CHARACTERS}acme-bot/",
        {"greeting": "Hi"},
        "json",
        expect(200, "editor"),
    ),
    (
        "replace a character",
        "put",
        f"{CHARACTERS}acme-bot/",
        {"slug": "acme-bot", "name": "Acme"},
        "json",
        expect(200, "editor"),
    ),
    (
        "change session_overrides",
        "patch",
        f"{CHARACTERS}acme-bot/",
        {"session_overrides": ["language"]},
        "json",
        expect(200, "admin"),
    ),
    (
        "round-trip session_overrides unchanged",
        "patch",
        f"{CHARACTERS}acme-bot/",
        {"session_overrides": ["metadata", "origin_url", "language"], "greeting": "Hey"},
        "json",
        expect(200, "editor"),
    ),
    ("delete a character", "delete", f"{CHARACTERS}acme-bot/", None, "json", expect(204, "editor")),
    (
        "change publishing",
        "patch",
        f"{CHARACTERS}acme-bot/",
        {"publishing": "manual"},
        "json",
        expect(200, "admin"),
    ),
    # The character publishes every version itself ("auto"): an admin's publish is the 409.
    ("publish", "post", f"{CHARACTERS}acme-bot/publish/", {}, "json", expect(409, "admin")),
    (
        "list versions",
        "get",
        f"{CHARACTERS}acme-bot/versions/",
        None,
        "json",
        expect(200, "viewer"),
    ),
    (
        "read a version",
        "get",
        f"{CHARACTERS}acme-bot/versions/1/",
        None,
        "json",
        expect(200, "viewer"),
    ),
    (
        "restore a version",
        "post",
        f"{CHARACTERS}acme-bot/versions/1/restore/",
        None,
        "json",
        expect(200, "editor"),
    ),
    (
        "duplicate a character",
        "post",
        f"{CHARACTERS}acme-bot/duplicate/",
        {"slug": "acme-copy"},
        "json",
        expect(201, "editor"),
    ),
    ("list documents", "get", DOCUMENTS, None, "json", expect(200, "viewer")),
    (
        "upload a document",
        "post",
        DOCUMENTS,
        lambda team: {"file": upload("notes.txt", words(20))},
        "multipart",
        expect(201, "editor"),
    ),
    (
        "delete a document",
        "delete",
        lambda team: f"{DOCUMENTS}{team['document'].pk}/",
        None,
        "json",
        expect(204, "editor"),
    ),
    (
        "search the knowledge base",
        "get",
        "/api/knowledge-base/query/?slug=acme-bot&q=hello",
        None,
        "json",
        expect(200, "viewer"),
    ),
    (
        "search the knowledge base (POST)",
        "post",
        "/api/knowledge-base/query/",
        {"slug": "acme-bot", "q": "hello"},
        "json",
        expect(200, "viewer"),
    ),
    ("usage history", "get", "/api/billing/usage/", None, "json", expect(200, "viewer")),
    (
        "a session's transcript",
        "get",
        lambda team: f"/api/billing/sessions/{team['session'].pk}/",
        None,
        "json",
        expect(200, "viewer"),
    ),
    (
        "form responses",
        "get",
        "/api/agents/acme-bot/form-responses/",
        None,
        "json",
        expect(200, "viewer"),
    ),
    ("list API keys", "get", "/api/auth/api-keys/", None, "json", expect(200, "admin")),
    (
        "create an API key",
        "post",
        "/api/auth/api-keys/",
        {"name": "backend"},
        "json",
        expect(201, "admin"),
    ),
    ("read the organization", "get", ORGANIZATION, None, "json", expect(200, "viewer")),
    (
        "rename the organization",
        "patch",
        ORGANIZATION,
        {"name": "Acme Inc"},
        "json",
        expect(200, "owner"),
    ),
    # It still has characters: an owner gets the 409, everyone else the 403.
    ("delete the organization", "delete", ORGANIZATION, None, "json", expect(409, "owner")),
    ("list members", "get", f"{ORGANIZATION}members/", None, "json", expect(200, "viewer")),
    (
        "change a member's role",
        "patch",
        lambda team: f"{ORGANIZATION}members/{team['target'].pk}/",
        {"role": "editor"},
        "json",
        expect(200, "admin"),
    ),
    (
        "make a member owner",
        "patch",
        lambda team: f"{ORGANIZATION}members/{team['target'].pk}/",
        {"role": "owner"},
        "json",
        expect(200, "owner"),
    ),
    (
        "remove a member",
        "delete",
        lambda team: f"{ORGANIZATION}members/{team['target'].pk}/",
        None,
        "json",
        expect(204, "admin"),
    ),
    ("list invitations", "get", f"{ORGANIZATION}invitations/", None, "json", expect(200, "admin")),
    (
        "invite someone",
        "post",
        f"{ORGANIZATION}invitations/",
        {"email": "new@example.com", "role": "editor"},
        "json",
        expect(201, "admin"),
    ),
    (
        "invite an owner",
        "post",
        f"{ORGANIZATION}invitations/",
        {"email": "new@example.com", "role": "owner"},
        "json",
        expect(201, "owner"),
    ),
]


@pytest.fixture
def team(make_user, calls_settings):
    """The organization acme: one member per role, a viewer to act on, a character with a
    document, a session."""
    founder = make_user("founder@example.com")
    acme = services.create_organization("Acme", founder, slug="acme")
    members = {"owner": founder}
    for role in ROLES[1:]:
        members[role] = make_user(f"{role}@example.com")
        Membership.objects.create(organization=acme, user=members[role], role=role)
    target = make_user("target@example.com")
    Membership.objects.create(organization=acme, user=target, role="viewer")
    created = client_for(founder).post(
        CHARACTERS, {"slug": "acme-bot", "name": "Acme"}, format="json", HTTP_X_ORGANIZATION="acme"
    )
    assert created.status_code == 201, created.content  # through the API: version 1 recorded
    character = Character.objects.get(slug="acme-bot")
    document = Document.objects.create(
        character=character,
        file=ContentFile(b"Notes", name="notes.txt"),
        file_type="txt",
        status="PROCESSED",
    )
    now = timezone.now()
    session = CallSession.objects.create(
        character=character,
        character_slug="acme-bot",
        owner=founder,
        room_name="acme-room",
        participant_identity="visitor-1",
        started_at=now,
        expires_at=now + timedelta(hours=1),
    )
    return {
        "organization": acme,
        "members": members,
        "target": target,
        "document": document,
        "session": session,
    }


def resolve(value, team):
    return value(team) if callable(value) else value


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "body_format", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_role_table(team, role, method, path, body, body_format, expected):
    client = client_for(team["members"][role])
    response = getattr(client, method)(
        resolve(path, team),
        resolve(body, team),
        format=body_format,
        HTTP_X_ORGANIZATION="acme",
    )
    assert response.status_code == expected[role], response.content
    if response.status_code == 403:
        assert response.json()["detail"].startswith(
            f"Your role ({role}) in this organization cannot "
        )


@pytest.mark.django_db
def test_a_refused_write_changes_nothing(team):
    viewer = client_for(team["members"]["viewer"])
    headers = {"HTTP_X_ORGANIZATION": "acme"}
    viewer.patch(f"{CHARACTERS}acme-bot/", {"name": "Changed"}, format="json", **headers)
    viewer.delete(f"{CHARACTERS}acme-bot/", **headers)
    assert Character.objects.get(slug="acme-bot").name == "Acme"
    editor = client_for(team["members"]["editor"])
    editor.patch(f"{CHARACTERS}acme-bot/", {"session_overrides": []}, format="json", **headers)
    assert Character.objects.get(slug="acme-bot").session_overrides != []


@pytest.mark.django_db
def test_a_role_change_applies_on_the_next_request(team):
    """JWTs are not re-issued: the role is read per request."""
    member = team["members"]["editor"]
    client = client_for(member)
    headers = {"HTTP_X_ORGANIZATION": "acme"}
    body = {"greeting": "one"}
    assert client.patch(f"{CHARACTERS}acme-bot/", body, format="json", **headers).status_code == 200
    Membership.objects.filter(user=member).update(role="viewer")
    body = {"greeting": "two"}
    assert client.patch(f"{CHARACTERS}acme-bot/", body, format="json", **headers).status_code == 403
    Membership.objects.filter(user=member).delete()
    assert client.get(f"{CHARACTERS}acme-bot/", **headers).status_code == 404
