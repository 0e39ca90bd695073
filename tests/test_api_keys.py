"""API keys: /api/auth/api-keys/ and `X-API-Key` on every owner endpoint, through HTTP."""

import hashlib
import logging
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys.models import ApiKey
from tests.helpers import client_for, upload, words

pytestmark = pytest.mark.django_db

KEYS = "/api/auth/api-keys/"
CHARACTERS = "/api/ai-characters/"
# DESIGN.md "Organizations": keys gained `role`.
LISTED_FIELDS = {"id", "name", "key_preview", "role", "is_active", "created_at", "last_used_at"}
KEY_FORMAT = re.compile(r"sk_[0-9a-f]{64}")


def key_url(key_id):
    return f"{KEYS}{key_id}/"


def create_key(jwt_client, name="CI deploys", **fields):
    response = jwt_client.post(KEYS, {"name": name, **fields})
    assert response.status_code == 201, response.content
    return response.json()


def key_client(key, header="X-API-Key"):
    client = APIClient()
    client.credentials(**{f"HTTP_{header.upper().replace('-', '_')}": key})
    return client


def with_key(client, key):
    """The client keeps its other credentials (a JWT) and sends the key too."""
    client.credentials(**{**client._credentials, "HTTP_X_API_KEY": key})
    return client


@pytest.fixture
def created(auth_client):
    return create_key(auth_client)


@pytest.fixture
def key(created):
    return created["key"]


def statements(captured):
    return [
        query["sql"]
        for query in captured
        if not query["sql"].upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))
    ]


def raw_api_key_rows():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiKey._meta.db_table}")
        return cursor.fetchall()


# -- lifecycle -------------------------------------------------------------------------------


def test_lifecycle_create_use_list_deactivate_reactivate_delete(auth_client, user):
    created = create_key(auth_client)
    key = created["key"]
    assert set(created) == LISTED_FIELDS | {"key"}
    assert KEY_FORMAT.fullmatch(key)
    assert created["key_preview"] == f"{key[:5]}...{key[-4:]}"
    assert created["is_active"] is True and created["last_used_at"] is None

    backend = key_client(key)
    made = backend.post(CHARACTERS, {"slug": "from-ci", "name": "From CI"})
    assert made.status_code == 201, made.content
    assert backend.get(f"{CHARACTERS}from-ci/").status_code == 200

    listed = auth_client.get(KEYS)
    assert listed.status_code == 200
    [item] = listed.json()
    assert set(item) == LISTED_FIELDS
    assert item["key_preview"] == created["key_preview"]
    assert item["last_used_at"] is not None
    assert key not in listed.content.decode()
    assert auth_client.get(key_url(created["id"])).json() == item

    off = auth_client.patch(key_url(created["id"]), {"is_active": False})
    assert off.status_code == 200 and off.json()["is_active"] is False
    refused = backend.get(CHARACTERS)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid or inactive API key."}
    assert refused["WWW-Authenticate"] == 'ApiKey realm="api"'

    assert auth_client.patch(key_url(created["id"]), {"is_active": True}).status_code == 200
    assert [c["slug"] for c in backend.get(CHARACTERS).json()] == ["from-ci"]

    assert auth_client.delete(key_url(created["id"])).status_code == 204
    assert backend.get(CHARACTERS).status_code == 401
    assert auth_client.get(KEYS).json() == []
    assert not ApiKey.objects.exists()


def test_created_inactive_key_is_refused_until_activated(auth_client):
    created = create_key(auth_client, is_active=False)
    assert created["is_active"] is False
    assert key_client(created["key"]).get(CHARACTERS).status_code == 401


def test_rename_keeps_the_key_working(auth_client, created, key):
    renamed = auth_client.patch(key_url(created["id"]), {"name": "Nightly sync"})
    assert renamed.json()["name"] == "Nightly sync"
    assert key_client(key).get(CHARACTERS).status_code == 200


def test_me_with_a_key_is_the_keys_user(key, user):
    assert key_client(key).get("/api/auth/me/").json()["email"] == user.email


@pytest.mark.parametrize("header", ["X-API-Key", "x-api-key", "X-API-KEY", "x-Api-kEy"])
def test_header_name_in_any_case(key, header):
    client = APIClient()
    assert client.get(CHARACTERS, headers={header: key}).status_code == 200


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "sk_",
        "not-a-key",
        "Bearer sk_" + "a" * 64,
        "sk_" + "a" * 63,
        "sk_" + "a" * 65,
        "sk_" + "A" * 64,
        "sk_" + "g" * 64,
        "sk_" + "0" * 64,  # well-formed, unknown
    ],
)
def test_malformed_or_unknown_key_is_401_json_never_anonymous(bad, character, auth_client):
    for client in (APIClient(), auth_client):  # also with a valid JWT alongside
        response = with_key(client, bad).get(CHARACTERS)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        assert response.json()["detail"] == "Invalid or inactive API key."
        assert response["WWW-Authenticate"] == 'ApiKey realm="api"'


def test_right_prefix_wrong_secret_is_401(key):
    forged = key[:-4] + ("0000" if not key.endswith("0000") else "1111")
    assert key_client(forged).get(CHARACTERS).status_code == 401


def test_deactivated_users_key_stops_at_once(key, user):
    assert key_client(key).get(CHARACTERS).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert key_client(key).get(CHARACTERS).status_code == 401
    assert key_client(key).get(f"{CHARACTERS}anything/").status_code == 401


def test_without_any_credentials_the_challenge_is_the_jwt_one():
    response = APIClient().get(CHARACTERS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# -- precedence and ownership ----------------------------------------------------------------


def test_key_wins_over_a_jwt(key, other_user, make_character, user):
    make_character(user, slug="mine")
    make_character(other_user, slug="theirs")
    both = with_key(client_for(other_user), key)
    assert [c["slug"] for c in both.get(CHARACTERS).json()] == ["mine"]
    assert both.get(f"{CHARACTERS}theirs/").status_code == 404
    assert both.get("/api/auth/me/").json()["email"] == user.email


def test_someone_elses_characters_stay_404_with_a_key(key, other_user, make_character):
    make_character(other_user, slug="theirs")
    backend = key_client(key)
    assert backend.get(f"{CHARACTERS}theirs/").status_code == 404
    assert backend.patch(f"{CHARACTERS}theirs/", {"name": "x"}).status_code == 404
    assert backend.delete(f"{CHARACTERS}theirs/").status_code == 404
    assert backend.get(CHARACTERS).json() == []


def test_writes_with_a_key_are_the_keys_users(key, user):
    backend = key_client(key)
    backend.post(CHARACTERS, {"slug": "made-by-key", "name": "Made"})
    assert user.characters.filter(slug="made-by-key").exists()
    assert backend.patch(f"{CHARACTERS}made-by-key/", {"name": "Renamed"}).status_code == 200
    assert backend.delete(f"{CHARACTERS}made-by-key/").status_code == 204


def test_documents_endpoints_with_a_key(
    key, character, other_user, make_character, django_capture_on_commit_callbacks
):
    backend = key_client(key)
    documents = f"/api/knowledge-base/{character.slug}/documents/"
    with django_capture_on_commit_callbacks(execute=True):
        posted = backend.post(documents, {"file": upload("notes.txt", words(20))}, "multipart")
    assert posted.status_code == 201, posted.content
    assert [d["id"] for d in backend.get(documents).json()] == [posted.json()["id"]]
    assert backend.get(f"{documents}{posted.json()['id']}/").status_code == 200
    assert backend.delete(f"{documents}{posted.json()['id']}/").status_code == 204
    theirs = make_character(other_user, slug="theirs")
    assert backend.get(f"/api/knowledge-base/{theirs.slug}/documents/").status_code == 404
    assert key_client("sk_" + "0" * 64).get(documents).status_code == 401


# -- managing keys takes a JWT ---------------------------------------------------------------


def test_a_key_cannot_manage_keys(created, key, auth_client):
    backend = key_client(key)
    attempts = [
        backend.get(KEYS),
        backend.post(KEYS, {"name": "minted by a key"}),
        backend.get(key_url(created["id"])),
        backend.patch(key_url(created["id"]), {"is_active": False}),
        backend.delete(key_url(created["id"])),
    ]
    for response in attempts:
        assert response.status_code == 403
        assert response.json()["detail"].startswith("API keys cannot manage API keys")
    # Not even with a JWT alongside: the key wins.
    both = with_key(auth_client, key)
    assert both.post(KEYS, {"name": "again"}).status_code == 403
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().is_active


def test_keys_need_authentication():
    assert APIClient().get(KEYS).status_code == 401
    assert APIClient().post(KEYS, {"name": "x"}).status_code == 401


def test_someone_elses_key_is_404(created, other_client):
    assert other_client.get(KEYS).json() == []
    assert other_client.get(key_url(created["id"])).status_code == 404
    assert other_client.patch(key_url(created["id"]), {"is_active": False}).status_code == 404
    assert other_client.delete(key_url(created["id"])).status_code == 404
    assert ApiKey.objects.get().is_active


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 12}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "ok", "is_active": "yes"}, "is_active"),
        ({"name": "ok", "key": "sk_" + "1" * 64}, "key"),
        ({"name": "ok", "scopes": ["all"]}, "scopes"),
    ],
)
def test_invalid_creation_names_the_field(auth_client, body, field):
    response = auth_client.post(KEYS, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not ApiKey.objects.exists()


def test_put_is_not_allowed(auth_client, created):
    assert auth_client.put(key_url(created["id"]), {"name": "x"}).status_code == 405


# -- secrets ---------------------------------------------------------------------------------


def test_store_holds_only_a_digest(key):
    stored = ApiKey.objects.get()
    assert stored.hashed_key == hashlib.sha256(key.encode()).hexdigest()
    for row in raw_api_key_rows():
        for value in row:
            assert key not in str(value)
            assert key[3:] not in str(value)


def test_full_key_never_in_a_log_line(auth_client, caplog, created, key):
    caplog.set_level(logging.DEBUG)
    backend = key_client(key)
    backend.get(CHARACTERS)
    backend.post(KEYS, {"name": "x"})
    auth_client.patch(key_url(created["id"]), {"is_active": False})
    backend.get(CHARACTERS)
    key_client(key + "0").get(CHARACTERS)
    assert caplog.records  # the 401s and 403 were logged
    for record in caplog.records:
        assert key not in record.getMessage()
        assert key[3:] not in record.getMessage()


def test_error_bodies_never_echo_the_key(created, key, auth_client):
    auth_client.patch(key_url(created["id"]), {"is_active": False})
    for client in (key_client(key), key_client(key + "0"), key_client(key.upper())):
        assert key[3:] not in client.get(CHARACTERS).content.decode().lower()


def test_admin_shows_preview_never_the_key_or_digest(admin_client, created, key):
    stored = ApiKey.objects.get()
    pages = [
        admin_client.get(reverse("admin:accounts_apikey_changelist")),
        admin_client.get(reverse("admin:accounts_apikey_change", args=[stored.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert created["key_preview"] in html
        assert stored.hashed_key not in html
        assert key not in html and key[3:] not in html
        assert stored.prefix not in html
    assert admin_client.get(reverse("admin:accounts_apikey_add")).status_code == 403


def test_admin_revoke_action_refuses_the_key_on_the_next_request(admin_client, key):
    assert key_client(key).get(CHARACTERS).status_code == 200
    response = admin_client.post(
        reverse("admin:accounts_apikey_changelist"),
        {"action": "revoke", "_selected_action": [ApiKey.objects.get().pk]},
    )
    assert response.status_code == 302
    assert not ApiKey.objects.get().is_active
    assert key_client(key).get(CHARACTERS).status_code == 401


# -- last use, speed, read cache -------------------------------------------------------------


def test_last_used_at_written_at_most_once_a_minute(key):
    backend = key_client(key)
    backend.get(CHARACTERS)
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as captured:
        backend.get(CHARACTERS)
        backend.get(CHARACTERS)
    assert not [sql for sql in statements(captured) if sql.upper().startswith("UPDATE")]
    assert ApiKey.objects.get().last_used_at == first

    ApiKey.objects.update(last_used_at=first - timedelta(seconds=61))
    backend.get(CHARACTERS)
    assert ApiKey.objects.get().last_used_at > first - timedelta(seconds=1)
    assert ApiKey.objects.get().last_used_at <= timezone.now()


def test_cached_retrieve_with_a_key_is_one_key_query_and_one_read(key, character):
    backend = key_client(key)
    backend.get(f"{CHARACTERS}{character.slug}/")  # first use (last_used_at) and cache fill
    with CaptureQueriesContext(connection) as captured:
        response = backend.get(f"{CHARACTERS}{character.slug}/")
    assert response.status_code == 200
    sql = statements(captured)
    assert len(sql) == 2, sql
    assert ApiKey._meta.db_table in sql[0] and "accounts_user" in sql[0]


def test_read_cache_and_etags_behave_the_same_with_a_key(key, character, auth_client):
    detail = f"{CHARACTERS}{character.slug}/"
    backend = key_client(key)
    by_jwt = auth_client.get(detail)
    first, cached = backend.get(detail), backend.get(detail)
    assert first.content == cached.content == by_jwt.content
    assert first["ETag"] == cached["ETag"] == by_jwt["ETag"]
    assert backend.get(detail, headers={"If-None-Match": first["ETag"]}).status_code == 304
    assert backend.get(CHARACTERS).content == auth_client.get(CHARACTERS).content

    ApiKey.objects.update(is_active=False)  # as the admin's revoke or a PATCH does
    assert backend.get(detail).status_code == 401
    assert backend.get(detail, headers={"If-None-Match": first["ETag"]}).status_code == 401


# -- throttling ------------------------------------------------------------------------------


def test_api_rate_is_counted_per_key(settings, auth_client):
    first, second = create_key(auth_client)["key"], create_key(auth_client)["key"]
    settings.API_THROTTLE_RATE = "3/minute"  # the JWT has used 2 of its own 3 (the creations)
    one = key_client(first)
    assert [one.get(CHARACTERS).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert int(one.get(CHARACTERS)["Retry-After"]) >= 1
    assert key_client(second).get(CHARACTERS).status_code == 200
    assert auth_client.get(CHARACTERS).status_code == 200


def test_failed_key_attempts_are_throttled_per_address(settings, key):
    settings.API_KEY_FAILURE_THROTTLE_RATE = "2/minute"
    wrong = key_client("sk_" + "0" * 64)
    assert [wrong.get(CHARACTERS).status_code for _ in range(3)] == [401, 401, 429]
    blocked = key_client(key).get(CHARACTERS)  # the same address: no more key attempts
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) >= 1
    elsewhere = key_client(key).get(CHARACTERS, REMOTE_ADDR="10.9.8.7")
    assert elsewhere.status_code == 200


def test_successful_key_uses_do_not_count_as_failures(settings, key):
    settings.API_KEY_FAILURE_THROTTLE_RATE = "2/minute"
    backend = key_client(key)
    assert {backend.get(CHARACTERS).status_code for _ in range(5)} == {200}


# -- OpenAPI ---------------------------------------------------------------------------------


def test_openapi_declares_api_key_auth_where_it_is_accepted(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key, `sk_` + 64 hex characters (POST /api/auth/api-keys/).",
    }
    paths = schema["paths"]

    def schemes(path, method):
        return {name for item in paths[path][method].get("security", []) for name in item}

    for path, methods in paths.items():
        if path.startswith(("/api/ai-characters/", "/api/knowledge-base/")):
            for method in methods:
                if method in ("get", "post", "put", "patch", "delete"):
                    assert "ApiKeyAuth" in schemes(path, method), (path, method)
    assert "ApiKeyAuth" in schemes("/api/auth/me/", "get")
    for method in ("get", "post"):
        assert schemes("/api/auth/api-keys/", method) == {"jwtAuth"}
    assert schemes("/api/auth/api-keys/{id}/", "patch") == {"jwtAuth"}


def test_openapi_documents_the_key_endpoints_responses(api_client):
    paths = api_client.get("/api/schema/?format=json").json()["paths"]
    expected = {
        ("/api/auth/api-keys/", "get"): "200",
        ("/api/auth/api-keys/", "post"): "201",
        ("/api/auth/api-keys/{id}/", "get"): "200",
        ("/api/auth/api-keys/{id}/", "patch"): "200",
        ("/api/auth/api-keys/{id}/", "delete"): "204",
    }
    for (path, method), success in expected.items():
        assert {success, "401", "403", "429"} <= set(paths[path][method]["responses"])
    created = paths["/api/auth/api-keys/"]["post"]["responses"]["201"]
    ref = created["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/ApiKeyCreated")
