"""Webhook endpoints (/api/webhooks/) and their delivery to a real local receiver, each
delivery verified with the `standardwebhooks` package as a customer's receiver would."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from events import checks, maintenance
from events.models import Delivery, Event, WebhookEndpoint
from events.tasks import dispatch_events
from events.webhooks import network
from tests.webhook_receiver import start_receiver, start_trickler

pytestmark = pytest.mark.django_db

URL = "/api/webhooks/"


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def local(settings):
    """The receiver is plain http on 127.0.0.1: allowed for tests only."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_RETRY_SCHEDULE = [5, 300]
    return settings


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def endpoint(auth_client, receiver, local, committed):
    with committed():
        response = auth_client.post(
            URL, {"url": receiver.url, "events": ["character.*"]}, format="json"
        )
    assert response.status_code == 201, response.content
    return response.json()


def verified(received, secret):
    return Webhook(secret).verify(received.body, received.headers)


def create_character(auth_client, committed, slug="hooked"):
    with committed():
        response = auth_client.post(
            "/api/ai-characters/", {"name": "H", "slug": slug}, format="json"
        )
    assert response.status_code == 201


# -- the endpoints API ----------------------------------------------------------------------


def test_the_secret_is_shown_once_and_stored_encrypted(auth_client, endpoint):
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    assert endpoint["id"].startswith("we_")
    listed = auth_client.get(URL)
    detail = auth_client.get(f"{URL}{endpoint['id']}/")
    for response in (listed, detail):
        assert response.status_code == 200
        assert secret not in response.content.decode()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM events_webhookendpoint")
        [(stored,)] = cursor.fetchall()
    assert secret not in stored
    assert secret not in str(list(Event.objects.values_list("data", flat=True)))


def test_another_scopes_endpoint_is_a_404_and_anonymous_a_401(endpoint, other_client, api_client):
    path = f"{URL}{endpoint['id']}/"
    assert other_client.get(path).status_code == 404
    assert other_client.patch(path, {"is_active": False}, format="json").status_code == 404
    assert other_client.post(f"{path}rotate-secret/").status_code == 404
    assert other_client.get(URL).json() == []
    assert api_client.get(URL).status_code == 401


def test_changes_to_endpoints_are_events(auth_client, endpoint):
    path = f"{URL}{endpoint['id']}/"
    assert auth_client.patch(path, {"description": "CRM"}, format="json").status_code == 200
    assert auth_client.delete(path).status_code == 204
    types = list(Event.objects.order_by("created_at", "id").values_list("type", flat=True))
    assert types == [
        "webhook_endpoint.created",
        "webhook_endpoint.updated",
        "webhook_endpoint.deleted",
    ]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "http://hooks.example.com/in"}, "url"),
        ({"url": "ftp://hooks.example.com/in"}, "url"),
        ({"url": "https://127.0.0.1/in"}, "url"),
        ({"url": "https://10.1.2.3/in"}, "url"),
        ({"url": "https://[::1]/in"}, "url"),
        ({"url": "https://100.64.0.1/in"}, "url"),
        ({"url": "https://user:pw@93.184.216.34/in"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://93.184.216.34/in", "events": ["Character!"]}, "events"),
        ({"url": "https://93.184.216.34/in", "events": "call.ended"}, "events"),
        ({"url": "https://93.184.216.34/in", "colour": "red"}, "colour"),
    ],
)
def test_bad_endpoints_are_a_400_naming_the_field(auth_client, body, field):
    response = auth_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not WebhookEndpoint.objects.exists()


def test_a_host_resolving_to_a_private_address_is_refused_at_save(auth_client, monkeypatch):
    monkeypatch.setattr(network, "resolve", lambda host, port: ["93.184.216.34", "10.0.0.5"])
    response = auth_client.post(URL, {"url": "https://hooks.example.com/in"}, format="json")
    assert response.status_code == 400 and "private" in str(response.json()["url"])


def test_check_deploy_warns_about_the_development_switches(settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    assert checks.webhook_switches(None) == []
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    assert [w.id for w in checks.webhook_switches(None)] == ["events.W001", "events.W002"]


# -- delivery to a real receiver ------------------------------------------------------------


def test_a_change_is_delivered_signed_to_the_endpoints_that_want_it(
    auth_client, endpoint, receiver, committed
):
    create_character(auth_client, committed)
    [received] = receiver.received
    payload = verified(received, endpoint["secret"])
    assert payload["type"] == "character.created"
    assert payload["data"]["slug"] == "hooked"
    event = Event.objects.get(type="character.created")
    assert received.headers["webhook-id"] == event.id
    assert Delivery.objects.get(event=event).status == "succeeded"
    # An API key's event is not among the endpoint's types: nothing sent.
    with committed():
        auth_client.post("/api/auth/api-keys/", {"name": "ci"}, format="json")
    assert len(receiver.received) == 1


def test_a_500_then_a_200_is_delivered_on_the_second_attempt_with_the_same_id(
    auth_client, endpoint, receiver, committed
):
    receiver.answers = [(500, {})]
    create_character(auth_client, committed)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("retrying", 1, 500)
    # The first retry is 5 s ± 10 %.
    wait = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
    assert 4.5 <= wait <= 5.5
    assert maintenance.send_due(delivery.last_attempt_at + timedelta(seconds=1)) == 0
    assert maintenance.send_due(delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 2, 200)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.event_id
    assert verified(first, endpoint["secret"]) == verified(second, endpoint["secret"])


def test_retry_after_is_honoured_and_other_4xx_fail_at_once(
    auth_client, endpoint, receiver, committed
):
    receiver.answers = [(429, {"Retry-After": "120"}), (410, {})]
    create_character(auth_client, committed)
    delivery = Delivery.objects.get()
    assert delivery.status == "retrying"
    assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(seconds=120)
    maintenance.send_due(delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)


def test_a_redirect_is_not_followed(auth_client, endpoint, receiver, committed):
    receiver.answers = [(302, {"Location": receiver.url + "/elsewhere"})]
    create_character(auth_client, committed)
    assert len(receiver.received) == 1
    assert Delivery.objects.get().status == "failed"


def test_the_schedule_ends_in_failure(auth_client, endpoint, receiver, committed):
    receiver.answers = [(503, {})] * 3
    create_character(auth_client, committed)
    for _ in range(2):
        maintenance.send_due(Delivery.objects.get().next_attempt_at)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 3)


def test_an_endpoint_failing_for_disable_after_is_disabled_and_its_owner_told(
    auth_client, endpoint, receiver, committed, settings, user
):
    settings.WEBHOOK_DISABLE_AFTER = 60
    settings.WEBHOOK_RETRY_SCHEDULE = [120, 120]
    receiver.answers = [(500, {})] * 2
    create_character(auth_client, committed)
    with committed():
        maintenance.send_due(Delivery.objects.get().next_attempt_at)
    stored = WebhookEndpoint.objects.get()
    assert not stored.is_active and stored.disabled_at is not None
    assert Event.objects.filter(type="webhook_endpoint.disabled").count() == 1
    [message] = mail.outbox
    assert message.to == [user.email] and stored.url in message.body
    # Turned back on, it starts again with a clean record.
    path = f"{URL}{stored.pk}/"
    body = auth_client.patch(path, {"is_active": True}, format="json").json()
    assert body["is_active"] and body["disabled_at"] is None


@pytest.mark.parametrize("head_at_once", [False, True], ids=["trickled-head", "trickled-body"])
def test_an_attempt_is_cut_at_its_whole_limit_however_the_bytes_trickle(
    auth_client, local, committed, head_at_once
):
    """Each byte comes well within the limit, the answer would take minutes: the attempt is
    cut at WEBHOOK_ATTEMPT_TIMEOUT as a whole (lowered here) and retried; a 200 whose body
    was not whole in time is no success either."""
    local.WEBHOOK_ATTEMPT_TIMEOUT = 1
    trickler = start_trickler(head_at_once)
    try:
        with committed():
            created = auth_client.post(URL, {"url": trickler.url, "events": ["character.*"]})
        assert created.status_code == 201, created.content
        create_character(auth_client, committed)
        delivery = Delivery.objects.get()
        assert trickler.requests == 1
        assert (delivery.status, delivery.attempts) == ("retrying", 1)
        assert delivery.last_status_code is None
        assert delivery.last_error.startswith("TimeoutError")
        maintenance.send_due(delivery.next_attempt_at)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, trickler.requests) == ("retrying", 2, 2)
    finally:
        trickler.stop()


def test_dns_rebinding_is_refused_at_send(auth_client, settings, monkeypatch, receiver, committed):
    """Public when saved, 127.0.0.1 when sent: the attempt is refused, nothing is sent."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    port = receiver.server.server_address[1]
    answers = {"resolves to": "93.184.216.34"}
    monkeypatch.setattr(network, "resolve", lambda host, port: [answers["resolves to"]])
    response = auth_client.post(
        URL, {"url": f"http://hooks.example.com:{port}/hook", "events": ["character.*"]}
    )
    assert response.status_code == 201
    answers["resolves to"] = "127.0.0.1"
    create_character(auth_client, committed)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and "private" in delivery.last_error
    assert receiver.received == []


def test_rotation_signs_with_both_secrets_for_the_overlap(
    auth_client, endpoint, receiver, committed
):
    path = f"{URL}{endpoint['id']}/"
    rotated = auth_client.post(f"{path}rotate-secret/")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != endpoint["secret"]
    with committed():
        assert auth_client.post(f"{path}test/").status_code == 202
    [received] = receiver.received
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verified(received, new_secret)["type"] == "webhook.test"
    assert verified(received, endpoint["secret"])["type"] == "webhook.test"
    # After the overlap, only the new secret signs.
    WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with committed():
        auth_client.post(f"{path}test/")
    latest = receiver.received[-1]
    assert verified(latest, new_secret)
    with pytest.raises(WebhookVerificationError):
        verified(latest, endpoint["secret"])


def test_the_delivery_log_and_redelivery(auth_client, endpoint, receiver, committed):
    receiver.answers = [(400, {})]
    create_character(auth_client, committed)
    path = f"{URL}{endpoint['id']}/deliveries/"
    [failed] = auth_client.get(path, {"status": "failed"}).json()
    assert failed["event_type"] == "character.created"
    assert failed["last_status_code"] == 400 and failed["response_body"] == "ok"
    assert auth_client.get(path, {"status": "succeeded"}).json() == []
    assert auth_client.get(path, {"status": "lost"}).status_code == 400
    with committed():
        response = auth_client.post(f"{path}{failed['id']}/redeliver/")
    assert response.status_code == 202
    [succeeded] = auth_client.get(path, {"status": "succeeded"}).json()
    assert succeeded["id"] == failed["id"]
    assert [r.headers["webhook-id"] for r in receiver.received] == [failed["event_id"]] * 2


def test_a_queue_that_was_down_loses_nothing(auth_client, endpoint, receiver):
    """No on-commit run (as if the queue were down): the maintenance run delivers it."""
    auth_client.post("/api/ai-characters/", {"name": "Late", "slug": "late"}, format="json")
    assert receiver.received == []
    call_command("run_events_maintenance")
    [received] = receiver.received
    assert json.loads(received.body)["data"]["slug"] == "late"


def test_a_turned_off_endpoint_is_sent_nothing(auth_client, endpoint, receiver, committed):
    path = f"{URL}{endpoint['id']}/"
    assert auth_client.patch(path, {"is_active": False}, format="json").status_code == 200
    create_character(auth_client, committed)
    assert not Delivery.objects.filter(event__type="character.created").exists()
    with committed():
        tested = auth_client.post(f"{path}test/").json()
    delivery = Delivery.objects.get(pk=tested["id"])
    assert delivery.status == "failed" and "turned off" in delivery.last_error
    assert receiver.received == []


def test_without_an_endpoint_no_delivery_work_is_queued(auth_client, committed):
    with committed() as callbacks:
        create_character(auth_client, committed)
    event = Event.objects.get(type="character.created")
    assert event.dispatched  # nothing for the worker to do
    assert dispatch_events.enqueue not in callbacks


def test_only_an_active_endpoint_of_the_events_own_scope_has_it_wait_for_dispatch(
    auth_client, other_client, endpoint, committed
):
    """The event's INSERT decides whether it waits for the worker: another organization's
    endpoint, or this one's turned off, leaves it done; this one's active endpoint has it
    dispatched."""
    with committed() as callbacks:
        assert (
            other_client.post("/api/ai-characters/", {"name": "O", "slug": "theirs"}).status_code
            == 201
        )
    assert Event.objects.get(subject_type="character", data__slug="theirs").dispatched
    assert dispatch_events.enqueue not in callbacks
    with committed() as callbacks:
        assert (
            auth_client.post("/api/ai-characters/", {"name": "M", "slug": "mine"}).status_code
            == 201
        )
    assert dispatch_events.enqueue in callbacks  # which ran: the event's delivery is made
    assert Delivery.objects.filter(
        event__type="character.created", event__data__slug="mine"
    ).exists()
    path = f"{URL}{endpoint['id']}/"
    assert auth_client.patch(path, {"is_active": False}, format="json").status_code == 200
    with committed() as callbacks:
        assert auth_client.patch("/api/ai-characters/mine/", {"name": "M2"}).status_code == 200
    assert Event.objects.get(type="character.updated", data__slug="mine").dispatched
    assert dispatch_events.enqueue not in callbacks


def test_the_admin_redelivers_a_failed_delivery(admin_client, auth_client, endpoint, committed):
    from django.urls import reverse

    from events.models import Delivery

    create_character(auth_client, committed)
    delivery = Delivery.objects.first()
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, attempts=3)
    changelist = reverse("admin:events_delivery_changelist")
    with committed():
        response = admin_client.post(
            changelist, {"action": "redeliver", "_selected_action": [delivery.pk]}
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status != Delivery.Status.FAILED


@pytest.mark.django_db(transaction=True)  # the worker closes its connection between tasks
def test_a_dispatch_queues_one_task_per_endpoint_and_send_batch(
    auth_client, endpoint, receiver, settings, committed
):
    """Many events: each endpoint's deliveries go out SEND_BATCH to a task (a task's own cost
    paid once for many), each delivery still claimed, sent and recorded on its own."""
    from django_tasks_db.models import DBTaskResult

    from events.webhooks.dispatching import SEND_BATCH
    from tests.helpers import DATABASE_BACKEND

    with committed():
        second = auth_client.post(URL, {"url": f"{receiver.url}?second"}, format="json").json()
    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND}}
    organization = Event.objects.filter(type="webhook_endpoint.created")[0].organization
    Event.objects.update(dispatched=True)
    count = SEND_BATCH + 1
    Event.objects.bulk_create(
        Event(
            type="character.updated",
            organization=organization,
            actor_type="system",
            subject_type="character",
            subject_id=str(index),
        )
        for index in range(count)
    )
    with committed():
        dispatch_events.call()
    queued = DBTaskResult.objects.filter(task_path="events.tasks.deliver_batch")
    sizes = sorted(len(task.args_kwargs["args"][0]) for task in queued)
    assert sizes == [1, 1, SEND_BATCH, SEND_BATCH]
    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    updates = [
        (received.path, received.headers["webhook-id"])
        for received in receiver.received
        if json.loads(received.body)["type"] == "character.updated"
    ]
    assert sorted(path for path, _ in updates) == ["/hook"] * count + ["/hook?second"] * count
    assert len(set(updates)) == 2 * count  # each event once to each endpoint
    sent = Delivery.objects.filter(event__type="character.updated")
    assert sent.filter(status="succeeded", attempts=1).count() == 2 * count
    assert sent.filter(endpoint_id=second["id"]).count() == count
