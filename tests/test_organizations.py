"""Organizations through the API: personal ones, the acting organization, members,
invitations, API keys' roles, and the concurrent-session limit per organization."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Invitation, Membership, Organization, User
from accounts.organizations import services
from calls.models import CallSession
from characters.models import Character
from tests.helpers import PASSWORD, WIDGET_ORIGIN, client_for, start_call

pytestmark = pytest.mark.django_db

ORGS = "/api/organizations/"
CHARACTERS = "/api/ai-characters/"
ACCEPT = "/api/invitations/accept/"
ACME = {"HTTP_X_ORGANIZATION": "acme"}


@pytest.fixture
def acme(user):
    return services.create_organization("Acme", user, slug="acme")


def join(organization, member, role):
    return Membership.objects.create(organization=organization, user=member, role=role)


# -- personal organizations, creating and listing ------------------------------------------------


def test_signup_makes_a_personal_organization_the_default(api_client):
    tokens = api_client.post(
        "/api/auth/signup/", {"email": "New.Person@Example.com", "password": PASSWORD}
    ).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    (personal,) = client.get(ORGS).json()
    assert set(personal) == {"id", "slug", "name", "role", "is_personal"}
    assert personal["role"] == "owner" and personal["is_personal"] is True
    assert personal["slug"] == "newperson"
    user = User.objects.get(email="new.person@example.com")
    assert user.default_organization.slug == personal["slug"]


def test_a_lone_user_sees_no_difference(auth_client, user):
    created = auth_client.post(CHARACTERS, {"slug": "solo", "name": "Solo"}, format="json")
    assert created.status_code == 201
    character = Character.objects.get(slug="solo")
    assert character.organization == user.default_organization and character.owner == user


def test_create_an_organization_with_a_derived_or_given_slug(auth_client, user):
    response = auth_client.post(ORGS, {"name": "Acme Corp"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {
        "id": response.json()["id"],
        "slug": "acme-corp",
        "name": "Acme Corp",
        "role": "owner",
        "is_personal": False,
    }
    second = auth_client.post(ORGS, {"name": "Acme Corp"}, format="json").json()
    assert second["slug"].startswith("acme-corp-")  # taken: a suffix
    taken = auth_client.post(ORGS, {"name": "X", "slug": "acme-corp"}, format="json")
    assert taken.status_code == 400 and "slug" in taken.json()
    for bad in ("Upper", "-dash", "a" * 65, "spa ce"):
        response = auth_client.post(ORGS, {"name": "X", "slug": bad}, format="json")
        assert response.status_code == 400 and "slug" in response.json(), bad
    assert auth_client.post(ORGS, {"name": "X", "plan": "pro"}, format="json").json() == {
        "plan": ["Unknown field."]
    }
    assert {org["slug"] for org in auth_client.get(ORGS).json()} >= {"acme-corp"}


def test_the_slug_cannot_change(auth_client, acme):
    response = auth_client.patch(f"{ORGS}acme/", {"slug": "other"}, format="json")
    assert response.status_code == 400 and "slug" in response.json()
    renamed = auth_client.patch(f"{ORGS}acme/", {"name": "Acme Inc"}, format="json")
    assert renamed.json()["name"] == "Acme Inc" and renamed.json()["slug"] == "acme"


def test_delete_an_organization(auth_client, user, acme, make_character):
    personal = user.default_organization.slug
    assert auth_client.delete(f"{ORGS}{personal}/").status_code == 409
    make_character(user, slug="acme-bot", organization=acme)
    assert auth_client.delete(f"{ORGS}acme/").status_code == 409
    Character.objects.get(slug="acme-bot").delete()
    assert auth_client.delete(f"{ORGS}acme/").status_code == 204
    assert not Organization.objects.filter(slug="acme").exists()


def test_api_keys_cannot_manage_organizations(auth_client):
    key = auth_client.post("/api/auth/api-keys/", {"name": "k"}, format="json").json()["key"]
    assert APIClient().get(ORGS, HTTP_X_API_KEY=key).status_code == 403


# -- the acting organization ---------------------------------------------------------------------


def test_x_organization_picks_where_a_member_acts(auth_client, user, acme):
    body = {"slug": "acme-bot", "name": "Acme"}
    assert auth_client.post(CHARACTERS, body, format="json", **ACME).status_code == 201
    assert Character.objects.get(slug="acme-bot").organization == acme
    assert auth_client.get(CHARACTERS).json() == []  # the default: the personal one
    assert [c["slug"] for c in auth_client.get(CHARACTERS, **ACME).json()] == ["acme-bot"]
    assert auth_client.get(f"{CHARACTERS}acme-bot/").status_code == 404
    assert auth_client.get(f"{CHARACTERS}acme-bot/", **ACME).status_code == 200


def test_a_non_members_organization_is_a_404(auth_client, other_client, acme, user):
    auth_client.post(CHARACTERS, {"slug": "acme-bot", "name": "A"}, format="json", **ACME)
    for path in (CHARACTERS, f"{CHARACTERS}acme-bot/", "/api/billing/usage/", f"{ORGS}acme/"):
        assert other_client.get(path, **ACME).status_code == 404, path
    assert other_client.get(CHARACTERS, HTTP_X_ORGANIZATION="no-such-org").status_code == 404
    assert other_client.get(f"{CHARACTERS}acme-bot/").status_code == 404


def test_handoff_targets_stay_in_the_organization(auth_client, user, acme, make_character):
    make_character(user, slug="personal-bot")
    make_character(user, slug="acme-target", organization=acme)
    body = {"slug": "acme-bot", "name": "A", "handoff_targets": [{"slug": "personal-bot"}]}
    response = auth_client.post(CHARACTERS, body, format="json", **ACME)
    assert response.status_code == 400 and "handoff_targets" in response.json()
    body["handoff_targets"] = [{"slug": "acme-target"}]
    assert auth_client.post(CHARACTERS, body, format="json", **ACME).status_code == 201


def test_patch_me_sets_the_default_organization(auth_client, acme, make_character, user):
    make_character(user, slug="acme-bot", organization=acme)
    response = auth_client.patch("/api/auth/me/", {"default_organization": "acme"}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"id", "email", "date_joined"}
    assert [c["slug"] for c in auth_client.get(CHARACTERS).json()] == ["acme-bot"]
    response = auth_client.patch("/api/auth/me/", {"default_organization": "nope"}, format="json")
    assert response.status_code == 400 and "default_organization" in response.json()


def test_history_tenant_id_is_the_organization_slug(
    auth_client, api_client, user, acme, make_character, calls_settings
):
    make_character(user, slug="acme-bot", organization=acme, allowed_origins=[WIDGET_ORIGIN])
    assert start_call(api_client, agent="acme-bot").status_code == 200
    data = auth_client.get("/api/billing/usage/", **ACME).json()["data"]
    assert [s["tenant_id"] for s in data["sessions"]["data"]] == ["acme"]
    assert auth_client.get("/api/billing/usage/").json()["data"]["total_sessions"] == 0


# -- API keys ------------------------------------------------------------------------------------


def make_key(client, **body):
    response = client.post("/api/auth/api-keys/", {"name": "k", **body}, format="json", **ACME)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_key_acts_in_its_own_organization_only(auth_client, acme, make_character, user):
    make_character(user, slug="acme-bot", organization=acme)
    key = make_key(auth_client)
    assert key["role"] == "owner"  # the creator's
    by_key = APIClient()
    by_key.credentials(HTTP_X_API_KEY=key["key"])
    assert [c["slug"] for c in by_key.get(CHARACTERS).json()] == ["acme-bot"]
    assert by_key.get(CHARACTERS, **ACME).status_code == 200
    personal = user.default_organization.slug
    response = by_key.get(CHARACTERS, HTTP_X_ORGANIZATION=personal)
    assert response.status_code == 403 and "acme" in response.json()["detail"]
    assert auth_client.get("/api/auth/api-keys/").json() == []  # the personal one's keys


def test_a_keys_role_is_at_most_its_creators(acme, make_user):
    admin = make_user("admin@example.com")
    join(acme, admin, "admin")
    client = client_for(admin)
    response = client.post(
        "/api/auth/api-keys/", {"name": "k", "role": "owner"}, format="json", **ACME
    )
    assert response.status_code == 400 and "role" in response.json()
    assert make_key(client, role="editor")["role"] == "editor"


def test_a_key_acts_with_the_lower_of_its_role_and_its_creators(acme, make_user, user):
    admin = make_user("admin@example.com")
    membership = join(acme, admin, "admin")
    key = make_key(client_for(admin), role="editor")["key"]
    by_key = APIClient()
    by_key.credentials(HTTP_X_API_KEY=key)
    body = {"slug": "by-key", "name": "K"}
    assert by_key.post(CHARACTERS, body, format="json").status_code == 201
    membership.role = "viewer"
    membership.save()
    response = by_key.post(CHARACTERS, {"slug": "by-key-2", "name": "K"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Your role (viewer)")
    membership.delete()  # the creator left: the key stops
    assert by_key.get(CHARACTERS).status_code == 401


# -- members -------------------------------------------------------------------------------------


def test_members_list_and_the_last_owner(auth_client, acme, user, make_user):
    viewer = make_user("viewer@example.com")
    join(acme, viewer, "viewer")
    members = auth_client.get(f"{ORGS}acme/members/").json()
    assert [(m["email"], m["role"]) for m in members] == [
        ("owner@example.com", "owner"),
        ("viewer@example.com", "viewer"),
    ]
    assert set(members[0]) == {"user_id", "email", "role", "joined_at"}
    me = f"{ORGS}acme/members/{user.pk}/"
    assert auth_client.patch(me, {"role": "admin"}, format="json").status_code == 409
    assert auth_client.delete(me).status_code == 409
    promoted = auth_client.patch(
        f"{ORGS}acme/members/{viewer.pk}/", {"role": "owner"}, format="json"
    )
    assert promoted.json()["role"] == "owner"
    assert auth_client.patch(me, {"role": "admin"}, format="json").json()["role"] == "admin"


def test_leaving_an_organization(acme, make_user, make_character, user):
    viewer = make_user("viewer@example.com")
    join(acme, viewer, "viewer")
    make_character(user, slug="acme-bot", organization=acme)
    services.set_default_organization(viewer, "acme")
    client = client_for(viewer)
    assert [c["slug"] for c in client.get(CHARACTERS).json()] == ["acme-bot"]
    assert client.delete(f"{ORGS}acme/members/{viewer.pk}/").status_code == 204
    assert client.get(f"{CHARACTERS}acme-bot/", **ACME).status_code == 404
    assert client.get(CHARACTERS).json() == []  # back to the personal one
    viewer.refresh_from_db()
    assert viewer.default_organization.is_personal


def test_an_unknown_member_is_a_404(auth_client, acme, other_user):
    assert auth_client.delete(f"{ORGS}acme/members/{other_user.pk}/").status_code == 404


# -- invitations ---------------------------------------------------------------------------------


def invite(client, email="new@example.com", role="editor"):
    response = client.post(
        f"{ORGS}acme/invitations/", {"email": email, "role": role}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_an_invitation_is_emailed_and_accepted_by_its_address(auth_client, acme, make_user):
    invitation = invite(auth_client)
    assert set(invitation) == {"id", "email", "role", "expires_at", "token"}
    (message,) = mail.outbox
    assert message.to == ["new@example.com"] and invitation["token"] in message.body
    stored = Invitation.objects.get()
    assert invitation["token"] not in str(stored.__dict__)  # a digest only
    assert stored.expires_at - timezone.now() > timedelta(days=6, hours=23)
    listed = auth_client.get(f"{ORGS}acme/invitations/").json()
    assert [i["email"] for i in listed] == ["new@example.com"] and "token" not in listed[0]

    stranger = client_for(make_user("stranger@example.com"))
    assert stranger.post(ACCEPT, {"token": invitation["token"]}, format="json").status_code == 403
    invited = client_for(make_user("NEW@example.com"))
    response = invited.post(ACCEPT, {"token": invitation["token"]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"organization": "acme", "role": "editor"}
    assert invited.get(f"{ORGS}acme/", **ACME).json()["role"] == "editor"
    # Used: gone from the pending list, and a second use is unknown.
    assert auth_client.get(f"{ORGS}acme/invitations/").json() == []
    assert invited.post(ACCEPT, {"token": invitation["token"]}, format="json").status_code == 404


def test_invitation_refusals(auth_client, acme, make_user, user):
    invited = client_for(make_user("new@example.com"))
    expired = invite(auth_client)
    Invitation.objects.filter(pk=expired["id"]).update(expires_at=timezone.now())
    assert invited.post(ACCEPT, {"token": expired["token"]}, format="json").status_code == 410
    revoked = invite(auth_client)
    assert auth_client.delete(f"{ORGS}acme/invitations/{revoked['id']}/").status_code == 204
    assert invited.post(ACCEPT, {"token": revoked["token"]}, format="json").status_code == 404
    assert invited.post(ACCEPT, {"token": "nope"}, format="json").status_code == 404
    member = invite(auth_client, email=user.email)
    assert auth_client.post(ACCEPT, {"token": member["token"]}, format="json").status_code == 409
    assert invited.post(ACCEPT, {}, format="json").json() == {"token": ["This field is required."]}


# -- the concurrent-session limit ----------------------------------------------------------------


def test_the_session_limit_counts_per_organization(
    api_client, acme, make_user, make_character, user, calls_settings
):
    calls_settings.MAX_CONCURRENT_SESSIONS = 1
    colleague = make_user("colleague@example.com")
    join(acme, colleague, "editor")
    make_character(user, slug="acme-one", organization=acme, allowed_origins=[WIDGET_ORIGIN])
    make_character(colleague, slug="acme-two", organization=acme, allowed_origins=[WIDGET_ORIGIN])
    make_character(colleague, slug="personal", allowed_origins=[WIDGET_ORIGIN])
    assert start_call(api_client, agent="acme-one").status_code == 200
    response = start_call(api_client, agent="acme-two")  # another creator, the same organization
    assert response.status_code == 429 and "organization" in response.json()["detail"]
    assert start_call(api_client, agent="personal").status_code == 200  # another organization
    assert CallSession.objects.filter(organization=acme).count() == 1


def test_a_members_credentials_admit_a_session_start_without_origin(
    acme, make_user, make_character, user, calls_settings
):
    viewer = make_user("viewer@example.com")
    join(acme, viewer, "viewer")
    make_character(user, slug="acme-bot", organization=acme)
    response = client_for(viewer).post(
        "/api/agents/agent-session/", {"agent": "acme-bot"}, format="json"
    )
    assert response.status_code == 200, response.content
    outsider = client_for(make_user("outsider@example.com"))
    response = outsider.post("/api/agents/agent-session/", {"agent": "acme-bot"}, format="json")
    assert response.status_code == 403


def test_paged_lists_follow_a_changed_default_organization(
    settings, monkeypatch, auth_client, user, acme, make_character
):
    """The list positions are per organization; a reader's organization is learnt from the
    rows and checked by every later statement, so a new default shows at once."""
    from characters.api import positions
    from tests.helpers import use_redis_cache

    use_redis_cache(settings)
    monkeypatch.setattr(positions, "LONG_LIST", 2)
    monkeypatch.setattr(positions, "STEP", 2)
    for index in range(3):
        make_character(user, slug=f"mine-{index}")
        make_character(user, slug=f"team-{index}", organization=acme)

    def page():
        response = auth_client.get(f"{CHARACTERS}?limit=2&offset=1")
        assert response.status_code == 200 and response["X-Total-Count"] == "3"
        return [item["slug"] for item in response.json()]

    assert page() == ["mine-1", "mine-0"]
    assert page() == ["mine-1", "mine-0"]  # from the positions now
    auth_client.patch("/api/auth/me/", {"default_organization": "acme"}, format="json")
    assert page() == ["team-1", "team-0"]
    assert page() == ["team-1", "team-0"]
