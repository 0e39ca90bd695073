"""The transactional outbox (oshara/outbox.py, events/recording.py): every change writes its
event in its own transaction, so a rolled-back change has none and a committed one exactly
one, naming who acted."""

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from calls.models import CallSession
from characters.models import Character
from events.models import Event
from knowledge.models import Document
from knowledge.tasks import DocumentFailed, process_document
from tests.helpers import report_url, start_call, submit_form, upload, worker_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


class Refused(Exception):
    pass


def events_of(type_prefix=""):
    return list(Event.objects.filter(type__startswith=type_prefix).order_by("created_at", "id"))


def test_a_character_created_updated_and_deleted_through_the_api(auth_client, user):
    created = auth_client.post(
        "/api/ai-characters/",
        {"name": "Helper", "slug": "helper"},
        format="json",
        HTTP_X_REQUEST_ID="proxy-7f3a",
    )
    assert created.status_code == 201, created.content
    [event] = events_of("character.")
    assert event.type == "character.created"
    assert event.organization == str(user.default_organization_id)  # its personal one
    assert event.actor == {"type": "user", "id": str(user.pk), "label": user.email}
    helper = Character.objects.get(slug="helper")
    assert event.subject == {"type": "character", "id": str(helper.pk)}
    assert event.data == {
        "slug": "helper",
        "version": helper.version,
        "published_version": helper.published_version,
        "changed": ["slug", "name"],
    }
    assert event.request_id == "proxy-7f3a"
    assert event.ip == "127.0.0.1"

    auth_client.patch("/api/ai-characters/helper/", {"greeting": "Hi"}, format="json")
    assert len(Event.objects.get(type="character.updated").request_id) == 32  # a new one
    auth_client.delete("/api/ai-characters/helper/")
    assert [e.type for e in events_of("character.")] == [
        "character.created",
        "character.updated",
        "character.deleted",
    ]


def test_a_change_rolled_back_leaves_no_event(user):
    with pytest.raises(Refused), transaction.atomic():
        Character.objects.create(owner=user, slug="gone", name="Gone")
        raise Refused
    assert not Character.objects.filter(slug="gone").exists()
    assert events_of() == []


def test_a_request_that_fails_after_the_change_leaves_no_event(auth_client, user, character):
    # The slug is taken by another character: the update is refused as a whole.
    Character.objects.create(owner=user, slug="taken", name="Taken")
    before = Event.objects.count()
    response = auth_client.patch(
        f"/api/ai-characters/{character.slug}/", {"slug": "taken"}, format="json"
    )
    assert response.status_code == 400
    assert Event.objects.count() == before


def test_a_save_in_a_shell_is_a_system_change(character):
    [created] = events_of()
    assert created.actor == {"type": "system", "id": None, "label": ""}
    character.greeting = "Changed in a shell"
    character.save()
    assert [e.type for e in events_of()] == ["character.created", "character.updated"]


def test_a_cascaded_delete_has_its_event(character, user):
    user.delete()
    assert events_of("character.deleted")[0].subject_id == str(character.pk)


def test_api_keys_created_and_revoked_never_carry_the_key(auth_client, user):
    created = auth_client.post("/api/auth/api-keys/", {"name": "ci"}, format="json").json()
    auth_client.patch(f"/api/auth/api-keys/{created['id']}/", {"is_active": False}, format="json")
    auth_client.delete(f"/api/auth/api-keys/{created['id']}/")
    events = events_of("api_key.")
    assert [e.type for e in events] == ["api_key.created", "api_key.revoked", "api_key.revoked"]
    for event in events:
        assert created["key"] not in str(event.data)
        assert event.data["key_preview"] == created["key_preview"]


def test_an_api_key_acting_is_named(user):
    from accounts.api_keys.services import create_key

    api_key, full_key = create_key(user, "deploy")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=full_key)
    assert (
        client.post("/api/ai-characters/", {"name": "K", "slug": "k"}, format="json").status_code
        == 201
    )
    [event] = events_of("character.")
    assert event.actor == {"type": "api_key", "id": str(api_key.pk), "label": "deploy"}


@pytest.mark.usefixtures("calls_settings")
def test_a_call_started_by_the_widget_and_ended_by_the_worker(widget_character, user):
    session_id = start_call(APIClient()).json()["session_id"]
    [started] = events_of("call.")
    assert started.type == "call.started"
    assert started.actor["type"] == "widget"
    assert started.organization == str(user.default_organization_id)
    assert started.data["session_id"] == session_id
    assert started.data["version"] == CallSession.objects.get(pk=session_id).version
    transcript = [{"role": "user", "text": "Hi", "turn_index": 0, "ts": 1764608400}]
    report = {"usage": {"turn_count": 3}, "transcript": transcript}
    assert worker_client().post(report_url(session_id), report, format="json").status_code == 200
    assert worker_client().post(report_url(session_id), report, format="json").status_code == 200
    ended = events_of("call.ended")
    assert len(ended) == 1  # a repeated report is not a second end
    assert ended[0].actor["type"] == "worker"
    assert ended[0].data["transcript"] == transcript
    assert ended[0].data["turn_count"] == 3


@pytest.mark.usefixtures("calls_settings")
def test_a_session_refused_at_the_limit_has_no_event(settings, widget_character):
    settings.MAX_CONCURRENT_SESSIONS = 1
    assert start_call(APIClient()).status_code == 200
    assert start_call(APIClient()).status_code == 429
    assert len(events_of("call.started")) == 1


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_has_exactly_one_event_outside_any_test_transaction(make_user):
    owner = make_user()
    character = Character.objects.create(owner=owner, slug="real", name="Real")
    try:
        with transaction.atomic():
            character.greeting = "never"
            character.save()
            raise Refused
    except Refused:
        pass
    assert [e.type for e in events_of()] == ["character.created"]


def test_a_form_response_has_its_event(api_client, sales_session, user):
    values = {"name": "Ada Lovelace", "email": "ada@example.com"}
    body = {"form_id": "book-demo", "session_id": sales_session, "values": values}
    stored = submit_form(api_client, body).json()
    [event] = events_of("form_response.")
    assert event.type == "form_response.created"
    assert event.actor["type"] == "widget"
    assert event.organization == str(user.default_organization_id)  # its personal one
    assert event.subject == {"type": "form_response", "id": stored["id"]}
    assert event.data["values"] == values and event.data["character_slug"] == "sales-agent"


def test_documents_processed_and_failed_have_their_events(auth_client, character, committed):
    with committed():
        uploaded = auth_client.post(
            f"/api/knowledge-base/{character.slug}/documents/",
            {"file": upload("notes.txt", "Our demos last thirty minutes.")},
            format="multipart",
        ).json()
    [processed] = events_of("document.")
    assert processed.type == "document.processed"
    assert processed.actor["type"] == "system"
    assert processed.data == {
        "id": str(uploaded["id"]),
        "character_slug": character.slug,
        "chunk_count": 1,
    }
    document = Document.objects.get(pk=uploaded["id"])
    document.file.storage.delete(document.file.name)
    with pytest.raises(DocumentFailed):
        process_document.call(document.pk)
    failed = events_of("document.failed")[0]
    assert failed.data["error"] == "The uploaded file is missing from storage."
