"""Request objects whose keys depend on one of them are oneOf variants in the schema (tool
config per kind, forms with fields or steps, form fields per type), and what the schema
calls valid the server takes (issue 17, oshara/schema_variants.py)."""

import copy

import pytest
from drf_spectacular.generators import SchemaGenerator
from openapi_schema_validator import OAS30Validator

from tests.helpers import DOCUMENTED_EXAMPLE
from tests.reference import SALES_AGENT

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"
KB = {"name": "search_docs", "kind": "kb", "config": {}}
SHOW_OFFER = {"name": "show_offer", "kind": "client_event", "config": {"topic": "acme.offer"}}
FORM = SALES_AGENT["widget_appearance"]["forms"][0]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def valid(schema, component, value):
    body = {"$ref": f"#/components/schemas/{component}", "components": schema["components"]}
    return not list(OAS30Validator(body).iter_errors(value))


def test_tool_config_is_the_one_of_its_kind(schema):
    for tool in [*DOCUMENTED_EXAMPLE["tools"], KB, SHOW_OFFER]:
        assert valid(schema, "ToolRequest", tool), tool
    assert schema["components"]["schemas"]["ToolRequest"]["discriminator"]["propertyName"] == "kind"
    refused = [
        {**KB, "config": {"url": "https://x.com"}},  # a kb tool takes no config keys
        {**SHOW_OFFER, "config": {}},
        {**SHOW_OFFER, "config": {"topic": "bad topic!"}},
        {"name": "t", "kind": "http", "config": {"url": "https://x.com", "topic": "a"}},
        {"name": "t", "kind": "http", "config": {"url": "ftp://x.com"}},
        {"name": "t", "kind": "mcp", "config": {"server_name": "help"}},
    ]
    for tool in refused:
        assert not valid(schema, "ToolRequest", tool), tool


def test_a_form_has_fields_or_steps_but_not_both(schema):
    assert valid(schema, "FormRequest", FORM)
    steps = {**{k: v for k, v in FORM.items() if k != "fields"}, "steps": [{"title": "One"}]}
    steps["steps"][0]["fields"] = FORM["fields"]
    assert valid(schema, "FormRequest", steps)
    assert not valid(schema, "FormRequest", {**steps, "fields": FORM["fields"]})
    assert not valid(schema, "FormRequest", {k: v for k, v in FORM.items() if k != "fields"})


@pytest.mark.parametrize(
    ("field", "ok"),
    [
        ({"name": "a"}, True),
        ({"name": "a", "type": "textarea", "rows": 4}, True),
        ({"name": "a", "rows": 4}, False),
        ({"name": "a", "type": "select", "options": ["x", {"value": "y"}]}, True),
        ({"name": "a", "type": "select"}, False),
        ({"name": "a", "type": "text", "options": ["x"]}, False),
        ({"name": "a", "type": "select", "options": ["x", {"value": ""}]}, False),
        ({"name": "a", "type": "number", "min": 1.5, "default_value": 2}, True),
        ({"name": "a", "type": "number", "default_value": "2"}, False),
        ({"name": "a", "type": "date", "min": "2025-01-31"}, True),
        ({"name": "a", "type": "date", "min": 3}, False),
        ({"name": "a", "type": "checkbox", "default_value": True}, True),
        ({"name": "a", "type": "email", "default_value": "a@b.com"}, True),
        ({"name": "a", "type": "email", "default_value": "not an address"}, False),
        ({"name": "a", "min": -1}, False),
    ],
)
def test_form_fields_take_what_their_type_does(schema, auth_client, field, ok):
    assert valid(schema, "FormFieldRequest", field) is ok
    if ok:  # and the server agrees
        form = {"id": "f", "title": "F", "fields": [field]}
        body = {"slug": "s", "name": "S", "widget_appearance": {"forms": [form]}}
        assert auth_client.post(URL, body, format="json").status_code == 201


def test_the_reference_examples_match_the_variants(schema):
    body = {**copy.deepcopy(SALES_AGENT), **DOCUMENTED_EXAMPLE}
    assert valid(schema, "CharacterRequest", body)


@pytest.mark.parametrize(
    "field",
    [
        {"name": "a", "type": "select", "options": ["x\x00y"]},
        {"name": "a", "default_value": "x\x00y"},
        {"name": "a", "type": "checkbox", "options": ["x"], "default_value": ["x\x00"]},
    ],
)
def test_nul_in_form_options_and_defaults_is_a_400_naming_the_field(auth_client, field):
    form = {"id": "f", "title": "F", "fields": [field]}
    body = {"slug": "s", "name": "S", "widget_appearance": {"forms": [form]}}
    response = auth_client.post(URL, body, format="json")
    assert response.status_code == 400
    errors = response.json()["widget_appearance"]["forms"]["0"]["fields"]["0"]
    assert set(errors) & {"options", "default_value"}
    assert not auth_client.get(URL).json()


@pytest.mark.parametrize("value, ok", [("Bearer abc", True), ("a\nb", False), ("a\x00b", False)])
def test_mcp_server_header_values_follow_the_servers_rule(schema, auth_client, value, ok):
    server = {"name": "crm", "url": "https://mcp.example.com/sse", "headers": {"X-Key": value}}
    assert valid(schema, "McpServerRequest", server) is ok
    response = auth_client.post(
        "/api/ai-characters/",
        {"slug": "mcp-headers", "name": "M", "mcp_servers": [server]},
        format="json",
    )
    assert (response.status_code == 201) is ok, response.content
