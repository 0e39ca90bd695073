"""A change committed while Redis is unreachable reaches every public path within seconds of
Redis coming back (characters/widget/cache.py). A Redis server of the test's own, keeping its
data across the stop (as a persistent Redis, or a network partition, does), not the shared one."""

import contextlib
import shutil
import subprocess
import time

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from characters.models import Character
from tests.helpers import WIDGET_ORIGIN, local_port, start_call

REDIS_PORT = local_port(0)
RECOVERY_SECONDS = 5
URL = "/api/ai-characters/shop-helper/"

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")


class OwnRedis:
    """redis-server on 127.0.0.1:REDIS_PORT whose data (an RDB file) survives a restart."""

    def __init__(self, directory):
        self.directory = directory
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1"),
                *("--dir", str(self.directory), "--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=REDIS_PORT)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self):
        """SHUTDOWN SAVE: the keys are written to disk and read back by the next start."""
        with contextlib.suppress(redis.ConnectionError):  # it closes the connection as it exits
            redis.Redis(port=REDIS_PORT).shutdown(save=True)
        self.process.wait(timeout=10)

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def own_redis(settings, tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    url = f"redis://127.0.0.1:{REDIS_PORT}/0"
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    yield server
    server.kill()


def fetch(api_client):
    return api_client.get("/api/agents/shop-helper/appearance/", HTTP_ORIGIN=WIDGET_ORIGIN)


def public_statuses(api_client):
    return fetch(api_client).status_code, start_call(api_client).status_code


def until_within(seconds, read, expected):
    """Poll `read()` until it returns `expected`; the last value it returned otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def patch(body):
    def change(client):
        assert client.patch(URL, body, format="json").status_code == 200

    return change


def delete(client):
    assert client.delete(URL).status_code == 204


def deactivate_the_owner(client):
    """The owner's account switched off, saved as the admin saves it."""
    owner = Character.objects.get(slug="shop-helper").owner
    owner.is_active = False
    owner.save()


CHANGES = {
    "deactivated": (patch({"is_active": False}), (404, 404)),
    "origin removed": (patch({"allowed_origins": []}), (403, 403)),
    "deleted": (delete, (404, 404)),
    "owner deactivated": (deactivate_the_owner, (404, 404)),
}


@pytest.mark.django_db(transaction=True)  # commits for real, as a server does
@pytest.mark.usefixtures("calls_settings")
@pytest.mark.parametrize("change", CHANGES)
def test_a_change_made_while_redis_is_down_shows_once_it_is_back(
    api_client, auth_client, widget_character, own_redis, change
):
    make_change, expected = CHANGES[change]
    assert public_statuses(api_client) == (200, 200)  # both entries now cached in Redis

    own_redis.stop()
    make_change(auth_client)
    assert public_statuses(api_client) == expected  # read from the database meanwhile

    own_redis.start()
    assert until_within(RECOVERY_SECONDS, lambda: public_statuses(api_client), expected) == (
        expected
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("calls_settings")
def test_after_the_outage_a_warm_fetch_reads_no_character_row(
    api_client, auth_client, widget_character, own_redis
):
    assert fetch(api_client).status_code == 200
    own_redis.stop()
    edit = auth_client.patch(URL, {"widget_appearance": {"subtitle": "Back"}}, format="json")
    assert edit.status_code == 200
    own_redis.start()

    def title():
        return fetch(api_client).json().get("subtitle")

    assert until_within(RECOVERY_SECONDS, title, "Back") == "Back"
    with CaptureQueriesContext(connection) as queries:
        assert fetch(api_client).status_code == 200
    assert not [q["sql"] for q in queries if "characters_character" in q["sql"]]
