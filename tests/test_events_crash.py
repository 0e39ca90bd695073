"""Nothing lost when processes die (kill -9 of real processes on the test database):

- the server killed while clients PATCH characters: every committed version has exactly one
  event, and no event names a version that was not committed;
- the task worker killed mid-delivery and started again: every event is delivered at least
  once, the interrupted one again with the same `webhook-id`;
- the task worker down while events are made, its queue lost: started, it delivers them all
  (and prunes the log past its retention) by itself.

Every wait polls for a state and ends as soon as it is seen; its bound only fails a hang.
"""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from itertools import count

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework_simplejwt.tokens import RefreshToken

from characters.models import Character
from characters.version_models import CharacterVersion
from events.models import Delivery, Event
from tests.helpers import DATABASE_BACKEND, database_url, local_port
from tests.webhook_receiver import start_receiver, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PORT = local_port(1)
ATTEMPT_TIMEOUT = 3  # the worker's WEBHOOK_ATTEMPT_TIMEOUT: a dead worker's claim lasts 3x it
COMMITTED_BEFORE_KILL = 30  # PATCHes answered 200 before the server is killed
WRITERS = 4


@pytest.fixture
def environment(settings, tmp_path):
    """The test database and the settings every process started here runs with."""
    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND}}
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    return {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private-media"),
        "TASKS_BACKEND": DATABASE_BACKEND,
        "TASK_WORKER_LEASE_SECONDS": "2",
        "API_THROTTLE_RATE": "1000000/minute",
        "WEBHOOK_ALLOW_HTTP": "true",
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        "WEBHOOK_ATTEMPT_TIMEOUT": str(ATTEMPT_TIMEOUT),
        "WEBHOOK_RETRY_SCHEDULE": "1,1,1,1,1",
        "EVENTS_MAINTENANCE_INTERVAL": "0.5",
    }


@pytest.fixture
def processes():
    """Started processes (each the leader of its own group); all killed at the end."""
    started = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def start(processes, environment, *command):
    process = subprocess.Popen(
        [sys.executable, *command],
        cwd=django_settings.BASE_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a group of its own: gunicorn's master and its workers
    )
    processes.append(process)
    return process


def start_worker(processes, environment):
    return start(
        processes,
        environment,
        *("manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1"),
    )


def kill_9(process):
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.stop()


def add_endpoint(auth_client, receiver):
    created = auth_client.post(
        "/api/webhooks/", {"url": receiver.url, "events": ["character.*"]}, format="json"
    )
    assert created.status_code == 201, created.content


def create_characters(auth_client, slugs):
    for slug in slugs:
        response = auth_client.post("/api/ai-characters/", {"name": slug, "slug": slug})
        assert response.status_code == 201, response.content


def character_events():
    return list(Event.objects.filter(type__startswith="character."))


def all_delivered(events):
    """Every event has its delivery, and each one succeeded."""
    deliveries = Delivery.objects.filter(event__in=[event.pk for event in events])
    statuses = list(deliveries.values_list("status", flat=True))
    return len(statuses) == len(events) and set(statuses) == {"succeeded"}


# -- the server killed during writes ---------------------------------------------------------


def patch(token, slug, greeting):
    """PATCH over a connection of its own: (status, body), or None when the server is gone."""
    client = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        client.request(
            "PATCH",
            f"/api/ai-characters/{slug}/",
            body=json.dumps({"greeting": greeting}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = client.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        client.close()


def test_a_server_killed_during_writes_leaves_one_event_per_committed_version(
    environment, processes, auth_client, user
):
    slugs = ["killed-a", "killed-b"]
    create_characters(auth_client, slugs)
    server = start(
        processes,
        environment,
        *("-m", "gunicorn", "oshara.wsgi:application", "--bind", f"127.0.0.1:{PORT}"),
        *("--workers", "2", "--worker-class", "gthread", "--threads", "2"),
    )
    wait_for(lambda: server.poll() is None and ping() == 200)
    token = str(RefreshToken.for_user(user).access_token)
    answered, acknowledged, numbers = [], [], count()
    lock = threading.Lock()

    def write(slug):
        while True:
            outcome = patch(token, slug, f"Hello #{next(numbers)}")
            if outcome is None:  # the server is gone
                return
            status, body = outcome
            with lock:
                answered.append(status)
                if status == 200:
                    acknowledged.append((slug, json.loads(body)["version"]))

    writers = [threading.Thread(target=write, args=(slugs[index % 2],)) for index in range(WRITERS)]
    for writer in writers:
        writer.start()
    wait_for(lambda: len(acknowledged) >= COMMITTED_BEFORE_KILL or server.poll() is not None)
    kill_9(server)  # mid-write: four requests are in flight
    for writer in writers:
        writer.join()

    assert set(answered) == {200}  # contention waits, it never fails
    for character in Character.objects.filter(slug__in=slugs):
        versions = sorted(
            CharacterVersion.objects.filter(character=character).values_list("number", flat=True)
        )
        events = Event.objects.filter(subject_type="character", subject_id=str(character.pk))
        evented = sorted(event.data["version"] for event in events)
        assert evented == versions  # one event per committed version, none for another
        assert versions == list(range(1, len(versions) + 1))
        # What a client was told is committed, is.
        told = {version for slug, version in acknowledged if slug == character.slug}
        assert told <= set(versions)
    assert len(acknowledged) >= COMMITTED_BEFORE_KILL


def ping():
    client = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
    try:
        client.request("GET", "/healthz")
        return client.getresponse().status
    except OSError:
        return None
    finally:
        client.close()


# -- the task worker killed, or down -----------------------------------------------------------


def test_a_worker_killed_mid_delivery_and_restarted_delivers_every_event(
    environment, processes, auth_client, receiver
):
    add_endpoint(auth_client, receiver)
    create_characters(auth_client, [f"hooked-{index}" for index in range(4)])
    receiver.hold = 1  # the first request is held, unanswered
    worker = start_worker(processes, environment)
    wait_for(lambda: len(receiver.received) >= 1)
    # The first request is the one held (the worker's queue and its maintenance thread may
    # both be sending).
    interrupted = receiver.ids()[0]
    kill_9(worker)  # while its request is held
    receiver.released.set()

    start_worker(processes, environment)
    events = character_events()
    assert len(events) == 4
    wait_for(lambda: all_delivered(events))
    sent = receiver.ids()
    assert {event.id for event in events} <= set(sent)
    assert sent.count(interrupted) >= 2  # sent again, under the same webhook-id


def test_a_worker_down_while_events_are_made_loses_nothing(
    environment, processes, auth_client, receiver, settings
):
    old = Event.objects.create(
        type="character.updated",
        organization="0",
        actor_type="system",
        subject_type="character",
        subject_id="0",
        dispatched=True,
        created_at=timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS + 1),
    )
    add_endpoint(auth_client, receiver)
    create_characters(auth_client, ["down-1", "down-2", "down-3", "down-4"])
    # The queue lost what it held (a Redis restart, say): only the worker's own maintenance
    # run can find the events now.
    DBTaskResult.objects.all().delete()
    events = [event for event in character_events() if event.pk != old.pk]
    assert len(events) == 4
    assert not Delivery.objects.exists() and receiver.received == []  # no worker yet

    start_worker(processes, environment)
    wait_for(lambda: all_delivered(events))
    assert {event.id for event in events} <= set(receiver.ids())
    wait_for(lambda: not Event.objects.filter(pk=old.pk).exists())  # pruned by the worker
