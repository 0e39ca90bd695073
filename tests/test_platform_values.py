"""Documented values the server accepts, and the served OpenAPI schema accepts too (issue 29,
items 4-6): language tags beyond `xx-YY`, origins with IP hosts and high ports, allowed
origins with a path (stored as their origin), MCP timeouts with a fraction, relative
submit_url; and a multipart secret part meant as null never stored as a key."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator

from characters.models import Character
from characters.validators import validate_language, validate_origin
from tests.helpers import new_secret, raw_column, send_files, start_call

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"
LANGUAGES = ["zh-Hant-TW", "yue", "es-419", "sr-Latn", "pt-BR", "en"]
# entry -> what is stored (and shown)
ORIGINS = {
    "http://[::1]:8080": "http://[::1]:8080",
    "https://[2001:db8::1]": "https://[2001:db8::1]",
    "https://[2001:0DB8:0:0::1]:443/": "https://[2001:db8::1]",
    "http://192.168.0.10:65535": "http://192.168.0.10:65535",
    "http://127.0.0.1": "http://127.0.0.1",
    "https://acme.com:12345": "https://acme.com:12345",
    "https://acme.com/": "https://acme.com",
    "https://shop.acme.com/help/chat": "https://shop.acme.com",
    "http://localhost:3000/app": "http://localhost:3000",
}


@pytest.fixture(scope="module")
def served(django_db_blocker):
    with django_db_blocker.unblock():
        return Client().get("/api/schema/?format=json").json()


def request_validator(schema, operation_path, method="post", media="application/json"):
    body = schema["paths"][operation_path][method]["requestBody"]["content"][media]["schema"]
    return OAS30Validator({**body, "components": schema["components"]})


def schema_errors(schema, body, **where):
    validator = request_validator(schema, where.pop("path", URL), **where)
    return [error.message[:200] for error in validator.iter_errors(body)]


def form(**fields):
    return {"id": "contact", "title": "Contact", "fields": [{"name": "email"}], **fields}


def character(**fields):
    return {"slug": "values-bot", "name": "Values Bot", **fields}


# 6. languages


@pytest.mark.parametrize("tag", LANGUAGES)
def test_documented_language_tags_are_accepted_by_schema_and_server(auth_client, served, tag):
    body = character(
        language=tag,
        widget_appearance={
            "default_language": tag,
            "languages": [{"code": tag, "label": "L", "native_label": "L"}],
        },
    )
    assert schema_errors(served, body) == []
    response = auth_client.post(URL, body)
    assert response.status_code == 201, response.json()
    assert response.json()["language"] == tag


@pytest.mark.parametrize("tag", ["zh-Hant-TW", "yue"])
def test_session_start_language_override_is_in_the_schema(served, tag):
    body = {"agent": "values-bot", "language": tag}
    assert schema_errors(served, body, path="/api/agents/agent-session/") == []


@pytest.mark.parametrize("tag", ["pt_BR", "qq", "en-Latnx", "zzz"])
def test_invalid_language_tags_are_refused_by_both(auth_client, served, tag):
    assert schema_errors(served, character(language=tag))
    response = auth_client.post(URL, character(language=tag))
    assert response.status_code == 400 and "language" in response.json()


# 6. origins


def test_origins_with_ip_hosts_high_ports_and_paths_pass_and_are_stored_as_origins(
    auth_client, served
):
    body = character(allowed_origins=list(ORIGINS))
    assert schema_errors(served, body) == []
    response = auth_client.post(URL, body)
    assert response.status_code == 201, response.json()
    stored = list(dict.fromkeys(ORIGINS.values()))
    assert response.json()["allowed_origins"] == stored
    assert Character.objects.get(slug="values-bot").allowed_origins == stored
    # and the multipart form's schema says the same
    multipart = request_validator(served, URL, media="multipart/form-data")
    assert not list(multipart.iter_errors({**body, "allowed_origins": list(ORIGINS)}))


def test_an_origin_with_a_path_admits_its_origin(api_client, auth_client, calls_settings):
    body = character(allowed_origins=["https://shop.acme.com/help/chat"])
    assert auth_client.post(URL, body).status_code == 201
    assert start_call(api_client, "values-bot", origin="https://shop.acme.com").status_code == 200


@pytest.mark.parametrize(
    "origin",
    [
        "ftp://acme.com",
        "https://user:pw@acme.com",
        "https://acme.com/?q=1",
        "https://acme.com/#x",
        "http://10.0.0.1:65536",
        "http://256.1.1.1",
        "http://[1:::2]",
    ],
)
def test_bad_origins_are_refused_by_both(auth_client, served, origin):
    assert schema_errors(served, character(allowed_origins=[origin]))
    response = auth_client.post(URL, character(allowed_origins=[origin]))
    assert response.status_code == 400 and "allowed_origins" in response.json()


def property_pattern(schema, component, name):
    prop = schema["components"]["schemas"][component]["properties"][name]
    return prop.get("items", prop)["pattern"]


@pytest.fixture(scope="module")
def patterns(served):
    return {
        "origin": property_pattern(served, "CharacterRequest", "allowed_origins"),
        "language": property_pattern(served, "CharacterRequest", "language"),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_origin_the_schema_allows_the_server_takes(patterns, data):
    origin = data.draw(st.from_regex(patterns["origin"]))
    validate_origin(origin)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_language_tag_the_schema_allows_the_server_takes(patterns, data):
    validate_language(data.draw(st.from_regex(patterns["language"])))


# 4. MCP timeout and relative submit_url


def test_a_fractional_mcp_timeout_is_in_the_schema(auth_client, served):
    server = {"name": "crm", "url": "https://mcp.acme.com/", "timeout_seconds": 12.5}
    body = character(mcp_servers=[server])
    assert schema_errors(served, body) == []
    response = auth_client.post(URL, body)
    assert response.status_code == 201, response.json()
    assert response.json()["mcp_servers"][0]["timeout_seconds"] == 12.5
    assert schema_errors(served, character(mcp_servers=[{**server, "timeout_seconds": 30.5}]))


@pytest.mark.parametrize(
    "submit_url", ["forms/submit", "submit", "./forms/submit?x=1", "/forms/submit", None]
)
def test_a_relative_submit_url_is_accepted_by_schema_and_server(auth_client, served, submit_url):
    body = character(widget_appearance={"forms": [form(submit_url=submit_url)]})
    assert schema_errors(served, body) == []
    response = auth_client.post(URL, body)
    assert response.status_code == 201, response.json()
    assert response.json()["widget_appearance"]["forms"][0]["submit_url"] == submit_url


@pytest.mark.parametrize(
    "submit_url", ["javascript:alert(1)", "//evil.com/x", "/\\evil.com", "\\\\evil.com", "a b"]
)
def test_a_submit_url_to_another_host_or_scheme_is_refused_by_both(auth_client, served, submit_url):
    body = character(widget_appearance={"forms": [form(submit_url=submit_url)]})
    assert schema_errors(served, body)
    response = auth_client.post(URL, body)
    assert response.status_code == 400
    assert "submit_url" in response.json()["widget_appearance"]["forms"]["0"]


# 5. a multipart secret meant as null


@pytest.mark.parametrize("key", ["llm_api_key", "kb_query_api_key"])
def test_the_multipart_schema_does_not_offer_null_for_a_secret(served, key):
    for component in ("CharacterMultipartRequest", "PatchedCharacterMultipartRequest"):
        prop = served["components"]["schemas"][component]["properties"][key]
        assert not prop.get("nullable"), component
        assert "empty part clears" in prop["description"]
    # JSON still takes null
    assert served["components"]["schemas"]["PatchedCharacterRequest"]["properties"][key]["nullable"]


@pytest.mark.parametrize("key", ["llm_api_key", "kb_query_api_key"])
@pytest.mark.parametrize("sent", ["None", "null", ""])
def test_a_multipart_secret_meant_as_null_clears_the_key(auth_client, key, sent):
    assert auth_client.post(URL, character(**{key: new_secret()})).status_code == 201
    stored = Character.objects.get(slug="values-bot")
    assert raw_column(stored, key) is not None
    response = send_files(auth_client, "values-bot", **{key: sent})
    assert response.status_code == 200, response.json()
    assert response.json()[f"has_{key}"] is False
    assert raw_column(stored, key) is None  # no "None" encrypted as a key
    assert getattr(Character.objects.get(pk=stored.pk), key) in (None, "")


def test_a_multipart_secret_is_still_set_by_a_real_value(auth_client):
    assert auth_client.post(URL, character()).status_code == 201
    secret = new_secret()
    response = send_files(auth_client, "values-bot", llm_api_key=secret)
    assert response.json()["has_llm_api_key"] is True
    assert Character.objects.get(slug="values-bot").llm_api_key == secret


@pytest.mark.parametrize("labels, ok", [(125, True), (126, False)])
def test_an_origins_host_name_is_at_most_253_characters_in_both(patterns, labels, ok):
    """URLValidator refuses a longer host name; the schema's pattern says so too (hypothesis
    above found one 255 characters long that the schema allowed)."""
    origin = "https://" + "a." * labels + "com"
    assert bool(re.search(patterns["origin"], origin)) is ok
    if ok:
        validate_origin(origin)
    else:
        with pytest.raises(ValidationError):
            validate_origin(origin)
