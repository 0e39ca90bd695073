"""The OpenAPI schema and the offline docs pages."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from tests.helpers import run_concurrently, run_python


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def component(schema, name):
    return schema["components"]["schemas"][name]


def operation(schema, path, method):
    return schema["paths"][path][method]


def test_schema_generates_and_validates_without_warnings(tmp_path):
    # --fail-on-warn turns any generation warning or error into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yaml")
    loaded = yaml.safe_load((tmp_path / "s.yaml").read_text())
    validate_schema(loaded)
    assert loaded["openapi"].startswith("3.")


def test_every_endpoint_is_documented(schema):
    assert {
        "/api/ai-characters/": {"get", "post"},
        "/api/ai-characters/{slug}/": {"get", "put", "patch", "delete"},
        "/api/auth/signup/": {"post"},
        "/api/auth/login/": {"post"},
        "/api/auth/refresh/": {"post"},
        "/api/auth/logout/": {"post"},
        "/api/auth/me/": {"get"},
        "/healthz": {"get"},
        "/api/agents/{slug}/appearance/": {"get", "options"},
        "/api/knowledge-base/{slug}/documents/": {"get", "post"},
        "/api/knowledge-base/{slug}/documents/{id}/": {"get", "delete"},
    }.items() <= {path: set(item) for path, item in schema["paths"].items()}.items()


def test_character_components_are_named_after_the_serializers(schema):
    names = set(schema["components"]["schemas"])
    assert {
        "Character",
        "CharacterRequest",
        "PatchedCharacterRequest",
        "Voice",
        "HandoffTarget",
        "WidgetAppearance",
        "Theme",
        "Form",
        "FormField",
        "Document",
        "Error",
        "ValidationError",
    } <= names
    character = component(schema, "Character")["properties"]
    assert character["voice"] == {"$ref": "#/components/schemas/Voice"}
    assert character["handoff_targets"]["items"] == {"$ref": "#/components/schemas/HandoffTarget"}
    assert character["widget_appearance"] == {"$ref": "#/components/schemas/WidgetAppearance"}


def test_llm_api_key_is_write_only_and_has_llm_api_key_read_only(schema):
    request = component(schema, "CharacterRequest")["properties"]
    response = component(schema, "Character")["properties"]
    assert request["llm_api_key"]["writeOnly"] is True
    assert request["llm_api_key"]["nullable"] is True
    assert "llm_api_key" not in response
    assert response["has_llm_api_key"] == {"type": "boolean", "readOnly": True}
    assert "has_llm_api_key" not in request
    for read_only in ("documents", "created_at", "updated_at"):
        assert response[read_only]["readOnly"] is True


def test_strict_fields_map_to_plain_types_and_enums(schema):
    props = component(schema, "CharacterRequest")["properties"]
    assert props["name"]["type"] == "string"
    # `(?!\n)`: Python's `$` (hypothesis, openapi-core) would also match before a final newline.
    assert props["slug"]["pattern"] == r"^[a-z0-9_-]{1,64}$(?!\n)"
    assert props["allowed_origins"]["maxItems"] == 50
    assert {"$ref": "#/components/schemas/CharacterTypeEnum"} in props["character_type"]["oneOf"]
    assert component(schema, "CharacterTypeEnum")["enum"] == [
        "PODCAST_HOST",
        "STORY_TELLER",
        "SUPPORT_AGENT",
    ]
    # A form field is one variant per type (oshara/schema_variants.py).
    form_field = component(schema, "TextFieldRequest")["properties"]
    assert form_field["required"]["type"] == "boolean"
    assert component(schema, "CheckboxFieldRequest")["properties"]["type"]["enum"] == ["checkbox"]
    assert "checkbox" in component(schema, "TypeEnum")["enum"]


def test_uploads_have_a_multipart_form_with_dotted_voice_keys(schema):
    for method, name in (("put", "CharacterMultipartRequest"), ("patch", "PatchedCharacter")):
        body = operation(schema, "/api/ai-characters/{slug}/", method)["requestBody"]["content"]
        assert set(body) == {"application/json", "multipart/form-data"}
        form = body["multipart/form-data"]
        assert form["schema"]["$ref"].startswith(f"#/components/schemas/{name}")
        assert form["encoding"]["widget_appearance"] == {"contentType": "application/json"}
    form = component(schema, "CharacterMultipartRequest")["properties"]
    assert form["image"]["format"] == "binary"
    assert form["voice.audio_file"]["format"] == "binary"
    assert "voice.voice_url" in form
    assert "voice" not in form
    # Responses give the uploads back as URLs.
    assert component(schema, "Character")["properties"]["image"]["format"] == "uri"
    assert component(schema, "Voice")["properties"]["audio_file"]["format"] == "uri"


def test_list_documents_its_query_parameters_and_headers(schema):
    list_op = operation(schema, "/api/ai-characters/", "get")
    params = {p["name"]: p for p in list_op["parameters"]}
    assert set(params) == {"character_type", "search", "limit", "offset"}
    assert params["character_type"]["schema"]["enum"] == [
        "",
        "PODCAST_HOST",
        "STORY_TELLER",
        "SUPPORT_AGENT",
    ]
    ok = list_op["responses"]["200"]
    assert set(ok["headers"]) == {"X-Total-Count", "Link"}
    body = ok["content"]["application/json"]["schema"]
    assert component(schema, body["$ref"].rsplit("/", 1)[-1])["type"] == "array"


def test_error_responses_are_documented_with_their_bodies(schema):
    error = {"$ref": "#/components/schemas/Error"}
    validation = {"$ref": "#/components/schemas/ValidationError"}
    patch = operation(schema, "/api/ai-characters/{slug}/", "patch")["responses"]
    assert patch["400"]["content"]["application/json"]["schema"] == validation
    for code in ("401", "404", "415"):
        assert patch[code]["content"]["application/json"]["schema"] == error
    login = operation(schema, "/api/auth/login/", "post")["responses"]
    assert login["401"]["content"]["application/json"]["schema"] == error
    assert component(schema, "Error")["required"] == ["detail"]


def test_bearer_jwt_security_and_public_operations(schema):
    scheme = schema["components"]["securitySchemes"]["jwtAuth"]
    assert scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    either = [{"ApiKeyAuth": []}, {"jwtAuth": []}]  # an API key or a JWT (tests/test_api_keys.py)
    assert operation(schema, "/api/ai-characters/", "get")["security"] == either
    assert operation(schema, "/api/auth/me/", "get")["security"] == either
    for path in ("/api/auth/signup/", "/api/auth/login/", "/api/auth/refresh/"):
        assert "jwtAuth" not in str(operation(schema, path, "post").get("security", []))
    assert "security" not in schema  # nothing is secured by default
    for method in ("get", "options"):
        widget = operation(schema, "/api/agents/{slug}/appearance/", method)
        assert widget["security"] == []  # no authentication at all
        assert {"403", "404"} <= set(widget["responses"])


def test_auth_endpoints_have_their_real_bodies(schema):
    signup = operation(schema, "/api/auth/signup/", "post")
    assert signup["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TokenPair"
    }
    assert set(component(schema, "SignupRequest")["required"]) == {"email", "password"}
    assert set(component(schema, "TokenPair")["properties"]) == {"access", "refresh"}
    assert set(component(schema, "User")["properties"]) == {"id", "email", "date_joined"}


def test_schema_endpoint_serves_yaml_and_json(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(response.content)["info"]["title"] == "Oshara Characters API"
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["paths"]["/api/ai-characters/"]
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.json()["openapi"].startswith("3.")


EXTERNAL_URL = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_work_offline(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert not EXTERNAL_URL.search(html), "the page loads something from another host"
    assert "cdn." not in html and "googleapis" not in html
    assets = re.findall(r"""(?:src|href)=["']/static/([^"']+)["']""", html)
    assert assets
    for asset in assets:
        assert finders.find(asset), f"{asset} is not in the static files"


def test_docs_can_be_restricted_to_staff():
    """API_DOCS_PUBLIC=false: schema and docs need a staff user (admin session or JWT)."""
    code = (
        "import django; django.setup();"
        "from django.test import Client;"
        "from drf_spectacular.views import SpectacularAPIView as V;"
        "print([c.__name__ for c in V.permission_classes]);"
        "c = Client();"
        "print([c.get(u, HTTP_HOST='localhost').status_code"
        " for u in ('/api/schema/', '/api/docs/', '/api/redoc/')])"
    )
    result = run_python(code, API_DOCS_PUBLIC="false", DATABASE_URL="sqlite://:memory:")
    assert result.stdout.split("\n")[:2] == ["['IsAdminUser']", "[403, 403, 403]"], result.stderr


def test_new_character_fields_are_documented(schema):
    request = component(schema, "CharacterRequest")["properties"]
    response = component(schema, "Character")["properties"]
    assert request["kb_query_api_key"]["writeOnly"] is True
    assert "kb_query_api_key" not in response
    assert response["has_kb_query_api_key"] == {"type": "boolean", "readOnly": True}
    assert request["is_active"]["type"] == response["is_active"]["type"] == "boolean"
    assert "kb_query_url" in request
    assert "kb_query_url" in response
    assert set(component(schema, "KindEnum")["enum"]) == {"http", "mcp", "kb", "client_event"}


def as_json_schema(node):
    """OpenAPI 3.0's `nullable` as plain JSON Schema, so jsonschema can check a body."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_json_schema(value) for key, value in node.items()}
    if "oneOf" in node:
        # Without a `uri` format checker "" matches both branches of "URL or empty".
        node["anyOf"] = node.pop("oneOf")
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def test_the_widget_fetch_documents_the_flat_body_every_key_required(schema, auth_client):
    from django.test import Client
    from jsonschema import Draft7Validator

    from tests.reference import SALES_AGENT, SUPPORT_BOT

    response = operation(schema, "/api/agents/{slug}/appearance/", "get")["responses"]["200"]
    ref = response["content"]["application/json"]["schema"]["$ref"]
    payload = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(payload["required"]) == set(payload["properties"])
    assert "slug" not in payload["properties"]
    assert "widget_appearance" not in payload["properties"]
    for nested in ("theme", "dimensions", "layout", "labels"):
        part = payload["properties"][nested]
        assert set(part["required"]) == set(part["properties"])
    form = payload["properties"]["forms"]["items"]
    assert {"id", "title", "submit_url", "submit_label", "confirmation_type", "layout"} <= set(
        form["required"]
    )
    field = form["properties"]["fields"]["items"]
    assert set(field["required"]) == {"name", "label", "type", "required", "placeholder", "width"}
    assert "default_value" in field["properties"]

    sales = {**SALES_AGENT, "widget_appearance": {**SALES_AGENT["widget_appearance"]}}
    sales["widget_appearance"]["forms"] = [
        *SALES_AGENT["widget_appearance"]["forms"],
        {
            "id": "callback",
            "title": "Call me",
            "steps": [
                {"id": "s1", "title": "Who", "fields": [{"name": "n", "default_value": "A"}]}
            ],
        },
    ]
    assert auth_client.post("/api/ai-characters/", SUPPORT_BOT).status_code == 201
    assert auth_client.post("/api/ai-characters/", sales).status_code == 201
    for slug in ("support-bot", "sales-agent"):
        body = Client().get(f"/api/agents/{slug}/appearance/", HTTP_ORIGIN="https://acme.com")
        errors = list(Draft7Validator(as_json_schema(payload)).iter_errors(body.json()))
        assert errors == []
    # A body with anything else in it would not match.
    extra = {**body.json(), "slug": "sales-agent"}
    assert list(Draft7Validator(as_json_schema(payload)).iter_errors(extra))


@pytest.mark.django_db(transaction=True)
def test_simultaneous_schema_requests_all_succeed():
    # drf-spectacular's generator is not thread-safe (oshara/views.py, SchemaView); `make run`
    # serves with threads.
    responses = run_concurrently(
        [lambda: APIClient().get("/api/schema/", {"format": "json"}) for _ in range(12)]
    )
    assert [response.status_code for response in responses] == [200] * 12
    assert len({response.content for response in responses}) == 1
