"""The operators' admin: organizations with their members and invitations; every
organization-scoped list filterable by organization."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.api_keys.services import create_key
from accounts.organizations import services
from calls.models import CallSession, FormResponse
from knowledge.models import Document

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_organizations(user, other_user, make_character):
    acme = services.create_organization("Acme", user, slug="acme")
    services.invite(acme, "invited@example.com", "editor", invited_by=user)
    mine = make_character(user, slug="acme-bot", organization=acme)
    theirs = make_character(other_user, slug="their-bot")
    for character in (mine, theirs):
        now = timezone.now()
        session = CallSession.objects.create(
            character=character,
            character_slug=character.slug,
            owner=character.owner,
            room_name=f"{character.slug}-room",
            participant_identity="visitor",
            started_at=now,
            expires_at=now + timedelta(hours=1),
        )
        FormResponse.objects.create(
            character=character, session=session, session_key=session.id, form_id="f", values={}
        )
        Document.objects.create(character=character, file=f"documents/{character.slug}.txt")
        create_key(
            character.owner, f"{character.slug}-key", organization_id=character.organization_id
        )
    return acme


def test_an_organization_page_shows_members_and_invitations(admin_client, two_organizations):
    page = admin_client.get(
        reverse("admin:accounts_organization_change", args=[two_organizations.pk])
    )
    assert page.status_code == 200
    content = page.content.decode()
    assert "owner@example.com" in content and "invited@example.com" in content
    assert "token_digest" not in content


CHANGELISTS = [
    ("admin:characters_character_changelist", "organization__id__exact"),
    ("admin:calls_callsession_changelist", "organization__id__exact"),
    ("admin:calls_formresponse_changelist", "character__organization__id__exact"),
    ("admin:knowledge_document_changelist", "character__organization__id__exact"),
    ("admin:accounts_apikey_changelist", "organization__id__exact"),
]


def organization_of(row):
    return getattr(row, "organization_id", None) or row.character.organization_id


@pytest.mark.parametrize(("changelist", "parameter"), CHANGELISTS)
def test_scoped_lists_filter_by_organization(
    admin_client, two_organizations, changelist, parameter
):
    everything = admin_client.get(reverse(changelist)).context["cl"].result_list
    assert {organization_of(row) for row in everything} >= {two_organizations.pk}
    assert len({organization_of(row) for row in everything}) >= 2
    page = admin_client.get(reverse(changelist), {parameter: two_organizations.pk})
    assert page.status_code == 200
    filtered = list(page.context["cl"].result_list)
    assert filtered and {organization_of(row) for row in filtered} == {two_organizations.pk}


def membership_form(organization, rows):
    """The organization's admin form: its members as `rows` [(membership id or "", user id,
    role, delete)], its invitations untouched."""
    data = {
        "name": organization.name,
        "memberships-TOTAL_FORMS": str(len(rows)),
        "memberships-INITIAL_FORMS": str(sum(1 for row in rows if row[0])),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "invitations-TOTAL_FORMS": str(organization.invitations.count()),
        "invitations-INITIAL_FORMS": str(organization.invitations.count()),
        "invitations-MIN_NUM_FORMS": "0",
        "invitations-MAX_NUM_FORMS": "1000",
    }
    for index, invitation in enumerate(organization.invitations.all()):
        data[f"invitations-{index}-id"] = str(invitation.pk)
        data[f"invitations-{index}-organization"] = str(organization.pk)
    for index, (pk, user_id, role, delete) in enumerate(rows):
        data[f"memberships-{index}-id"] = str(pk)
        data[f"memberships-{index}-organization"] = str(organization.pk)
        data[f"memberships-{index}-user"] = str(user_id)
        data[f"memberships-{index}-role"] = role
        if delete:
            data[f"memberships-{index}-DELETE"] = "on"
    return data


def test_members_changed_in_the_admin_are_in_the_audit_log(admin_client, user, make_user):
    from accounts.organizations.models import Membership
    from events.models import Event

    acme = services.create_organization("Acme", user, slug="acme")
    owner = Membership.objects.get(organization=acme, user=user)
    editor = make_user("editor@example.com")
    page = reverse("admin:accounts_organization_change", args=[acme.pk])

    def post(rows):
        response = admin_client.post(page, membership_form(acme, rows))
        assert response.status_code == 302, response.context["errors"]

    post([(owner.pk, user.pk, "owner", False), ("", editor.pk, "editor", False)])
    added = Membership.objects.get(organization=acme, user=editor)
    post([(owner.pk, user.pk, "owner", False), (added.pk, editor.pk, "admin", False)])
    post([(owner.pk, user.pk, "owner", False), (added.pk, editor.pk, "admin", True)])

    events = list(Event.objects.filter(type__startswith="member.").order_by("created_at", "id"))
    assert [(e.type, e.data["role"]) for e in events] == [
        ("member.joined", "editor"),
        ("member.role_changed", "admin"),
        ("member.removed", "admin"),
    ]
    assert events[0].data["invitation_id"] is None
    assert events[1].data["previous_role"] == "editor"
    assert {e.actor["type"] for e in events} == {"admin"}
    assert {e.subject_id for e in events} == {str(editor.pk)}
