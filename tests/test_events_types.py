"""The event types of DESIGN's list not covered by tests/test_events_outbox.py: members'
events, the voice worker's audit-only `runtime.fetched` (never sent to a webhook), and the
data each webhook endpoint and call event carries."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.organizations import services
from accounts.organizations.models import Membership
from calls.models import CallSession
from events.models import Delivery, Event
from tests.helpers import client_for, runtime_url, start_call, worker_client
from tests.webhook_receiver import start_receiver

pytestmark = pytest.mark.django_db

ORGS = "/api/organizations/"
ACME = {"HTTP_X_ORGANIZATION": "acme"}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def acme(user):
    return services.create_organization("Acme", user, slug="acme")


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    receiver = start_receiver()
    yield receiver
    receiver.stop()


def events_of(prefix):
    return list(Event.objects.filter(type__startswith=prefix).order_by("created_at", "id"))


def test_a_members_life_is_in_the_organizations_log(auth_client, acme, user, make_user):
    invited = auth_client.post(
        f"{ORGS}acme/invitations/", {"email": "new@example.com", "role": "editor"}, format="json"
    ).json()
    newcomer = make_user("new@example.com")
    joined = client_for(newcomer).post(
        "/api/invitations/accept/", {"token": invited["token"]}, format="json"
    )
    assert joined.status_code == 200, joined.content
    member = f"{ORGS}acme/members/{newcomer.pk}/"
    assert auth_client.patch(member, {"role": "admin"}, format="json").status_code == 200
    # The same role again changes nothing: no event.
    assert auth_client.patch(member, {"role": "admin"}, format="json").status_code == 200
    assert auth_client.delete(member).status_code == 204

    events = events_of("member.")
    assert [e.type for e in events] == [
        "member.invited",
        "member.joined",
        "member.role_changed",
        "member.removed",
    ]
    assert {e.organization for e in events} == {str(acme.pk)}
    invitation, joined_event, changed, removed = events
    assert invitation.subject == {"type": "invitation", "id": str(invited["id"])}
    assert invitation.data == {
        "invitation_id": str(invited["id"]),
        "email": "new@example.com",
        "role": "editor",
        "expires_at": invitation.data["expires_at"],
    }
    assert invited["token"] not in str(invitation.data)
    assert invitation.actor == {"type": "user", "id": str(user.pk), "label": user.email}
    member_data = {"user_id": str(newcomer.pk), "email": "new@example.com"}
    assert joined_event.data == {
        **member_data,
        "role": "editor",
        "invitation_id": str(invited["id"]),
    }
    assert joined_event.actor["id"] == str(newcomer.pk)  # the newcomer accepted
    assert changed.data == {**member_data, "role": "admin", "previous_role": "editor"}
    assert removed.data == {**member_data, "role": "admin"}
    for event in (joined_event, changed, removed):
        assert event.subject == {"type": "member", "id": str(newcomer.pk)}
    # The log finds one member's history by subject.
    log = auth_client.get("/api/events/", {"subject": f"member:{newcomer.pk}"}, **ACME).json()
    assert [e["type"] for e in log] == ["member.removed", "member.role_changed", "member.joined"]
    assert len(mail.outbox) == 1  # the invitation's e-mail, once


def test_a_refused_member_change_leaves_no_event(auth_client, acme, user):
    # The last owner cannot be demoted nor leave: 409, and nothing in the log.
    me = f"{ORGS}acme/members/{user.pk}/"
    assert auth_client.patch(me, {"role": "viewer"}, format="json").status_code == 409
    assert auth_client.delete(me).status_code == 409
    assert events_of("member.") == []


def test_a_service_call_outside_a_request_is_one_transaction(acme, make_user):
    # No request, no outer transaction: the service holds the change and its event itself.
    membership = Membership.objects.create(organization=acme, user=make_user(), role="viewer")
    services.change_role(membership, "editor")
    services.remove_member(membership)
    assert [e.type for e in events_of("member.")] == ["member.role_changed", "member.removed"]
    assert events_of("member.")[0].actor["type"] == "system"


@pytest.mark.usefixtures("calls_settings")
def test_a_call_and_its_runtime_fetch_carry_designs_data(widget_character, user, committed):
    session_id = start_call(APIClient()).json()["session_id"]
    [started] = events_of("call.started")
    assert started.data == {
        "session_id": session_id,
        "character_slug": "shop-helper",
        "version": CallSession.objects.get(pk=session_id).version,
        "origin_url": started.data["origin_url"],
    }
    assert started.data["origin_url"].startswith("https://")
    assert worker_client().get(runtime_url(session_id)).status_code == 200
    [fetched] = events_of("runtime.")
    assert fetched.type == "runtime.fetched"
    assert fetched.data == {"session_id": session_id, "character_slug": "shop-helper"}
    assert fetched.subject == {"type": "call", "id": session_id}
    assert fetched.actor["type"] == "worker"
    assert fetched.organization == str(user.default_organization_id)


@pytest.mark.usefixtures("calls_settings")
@pytest.mark.parametrize("events", [[], ["*"], ["runtime.*"], ["call.*"]])
def test_runtime_fetched_is_never_sent_to_a_webhook(
    auth_client, widget_character, receiver, committed, events
):
    with committed():
        created = auth_client.post("/api/webhooks/", {"url": receiver.url, "events": events})
    assert created.status_code == 201, created.content
    with committed():
        session_id = start_call(APIClient()).json()["session_id"]
    with committed():
        assert worker_client().get(runtime_url(session_id)).status_code == 200
    fetched = Event.objects.get(type="runtime.fetched")
    assert fetched.dispatched  # nothing for the worker to do
    assert not Delivery.objects.filter(event=fetched).exists()
    sent = {r.headers["webhook-id"] for r in receiver.received}
    assert fetched.id not in sent
    # The call's own start went out: the endpoint works (its `events` permitting).
    wants_calls = events != ["runtime.*"]
    assert (Event.objects.get(type="call.started").id in sent) == wants_calls


def test_an_endpoint_cannot_ask_for_an_audit_only_type(auth_client, receiver):
    response = auth_client.post(
        "/api/webhooks/", {"url": receiver.url, "events": ["runtime.fetched"]}, format="json"
    )
    assert response.status_code == 400
    assert "audit log only" in str(response.json()["events"])


def test_webhook_endpoint_events_carry_the_endpoint_never_its_secret(auth_client, receiver):
    created = auth_client.post(
        "/api/webhooks/", {"url": receiver.url, "events": ["call.ended"]}, format="json"
    ).json()
    path = f"/api/webhooks/{created['id']}/"
    auth_client.patch(path, {"description": "CRM"}, format="json")
    rotated = auth_client.post(f"{path}rotate-secret/").json()
    auth_client.delete(path)
    events = events_of("webhook_endpoint.")
    assert [e.type for e in events] == [
        "webhook_endpoint.created",
        "webhook_endpoint.updated",
        "webhook_endpoint.updated",
        "webhook_endpoint.deleted",
    ]
    fields = {"id": created["id"], "url": receiver.url, "events": ["call.ended"]}
    assert events[0].data == {**fields, "description": "", "is_active": True}
    assert events[-1].data == {**fields, "description": "CRM", "is_active": True}
    for event in events:
        assert event.subject == {"type": "webhook_endpoint", "id": created["id"]}
        assert created["secret"] not in str(event.data)
        assert rotated["secret"] not in str(event.data)
