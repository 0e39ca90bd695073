"""The character admin's structured editors: drawn from the schema the API serves, errors at
the field they concern, what the editor fills in never stored, the raw JSON one click away."""

import json

import pytest
from django.urls import reverse
from django_jsonform.constants import JOIN_SYMBOL

from characters.admin.editor_data import fill, prune
from characters.admin.editors import MODE_SUFFIX, editor_schema
from tests.helpers import change_url, form_payload

STRUCTURED = "structured"


@pytest.fixture
def served_components(api_client, db):
    return api_client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]


@pytest.mark.parametrize(
    ("field", "component"),
    [
        ("widget_appearance", "WidgetAppearanceRequest"),
        ("mcp_servers", "McpServerRequest"),
    ],
)
def test_editors_are_drawn_from_the_served_schema(served_components, field, component):
    schema = editor_schema(field)
    drawn = schema if field == "widget_appearance" else schema["$defs"][component]
    assert set(drawn["properties"]) == set(served_components[component]["properties"])
    served_theme = served_components["ThemeRequest"]["properties"]
    if field == "widget_appearance":
        theme = schema["$defs"]["ThemeRequest"]["properties"]
        assert set(theme) == set(served_theme)
        assert {prop["format"] for prop in theme.values()} == {"color"}  # colour pickers


def test_tools_are_edited_by_kind_and_headers_are_masked_rows(served_components):
    schema = editor_schema("tools")
    choices = schema["$defs"]["ToolRequest"]["oneOf"]
    kinds = served_components["ToolRequest"]["discriminator"]["mapping"]
    assert [choice["properties"]["kind"]["const"] for choice in choices] == list(kinds)
    assert [choice["title"] for choice in choices] == [
        "Http tool",
        "Mcp tool",
        "Kb tool",
        "Client event tool",
    ]
    headers = choices[0]["properties"]["config"]["properties"]["headers"]
    assert headers["additionalProperties"]["format"] == "password"
    server = editor_schema("mcp_servers")["$defs"]["McpServerRequest"]
    assert server["properties"]["headers"]["additionalProperties"]["format"] == "password"


def test_form_fields_are_edited_by_type():
    schema = editor_schema("widget_appearance")
    field_choices = schema["$defs"]["FormFieldRequest"]["oneOf"]
    types = [choice["properties"]["type"]["const"] for choice in field_choices]
    assert {"text", "tel", "email", "select", "radio", "checkbox"} <= set(types)
    choice = next(c for c in field_choices if c["properties"]["type"]["const"] == "select")
    assert "options" in choice["properties"]


def test_fill_draws_every_key_and_prune_takes_back_only_what_it_added():
    schema = editor_schema("widget_appearance")
    stored = {
        "subtitle": "",  # an explicit blank override, kept
        "theme": {"primary_color": "#FF6B35"},
        "forms": [{"id": "f", "title": "T", "fields": [{"name": "email", "type": "email"}]}],
    }
    filled = fill(json.loads(json.dumps(stored)), schema, schema["$defs"])
    assert filled["theme"]["accent_color"] == ""
    field = filled["forms"][0]["fields"][0]
    assert field["type"] == "email" and "placeholder" in field
    assert "options" not in field  # the email field's keys, not a choice field's
    assert prune(filled, stored) == stored


def test_a_tools_kind_picks_its_own_keys():
    schema = editor_schema("tools")
    tool = {"name": "offer", "kind": "client_event", "config": {"topic": "acme.offer"}}
    [filled] = fill([tool], schema, schema["$defs"])
    assert filled["kind"] == "client_event"
    assert filled["config"] == {"topic": "acme.offer"}


def post_change(admin_client, character, mode=STRUCTURED, **fields):
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    for name, value in fields.items():
        payload[name] = json.dumps(value)
        payload[name + MODE_SUFFIX] = mode
    return admin_client.post(url, payload)


def test_what_the_structured_editor_sends_is_stored_without_its_blanks(admin_client, character):
    schema = editor_schema("widget_appearance")
    edited = fill({"name": "Acme", "theme": {"primary_color": "#112233"}}, schema, schema["$defs"])
    assert post_change(admin_client, character, widget_appearance=edited).status_code == 302
    character.refresh_from_db()
    assert character.widget_appearance == {"name": "Acme", "theme": {"primary_color": "#112233"}}


def test_the_raw_view_stores_blanks_as_typed(admin_client, character):
    response = post_change(admin_client, character, "raw", widget_appearance={"subtitle": ""})
    assert response.status_code == 302
    character.refresh_from_db()
    assert character.widget_appearance == {"subtitle": ""}


def test_errors_are_shown_at_the_field_they_concern(admin_client, character):
    appearance = {"theme": {"primary_color": "orange"}}
    response = post_change(admin_client, character, widget_appearance=appearance)
    assert response.status_code == 200
    widget = response.context["adminform"].form.fields["widget_appearance"].widget
    key = JOIN_SYMBOL.join(["theme", "primary_color"])
    assert list(widget.error_map) == [key]
    config = json.loads(
        response.content.decode()
        .split('data-django-jsonform="', 1)[1]
        .split('"', 1)[0]
        .replace("&quot;", '"')
        .replace("&amp;", "&")
    )
    assert config["errorMap"] == widget.error_map
    character.refresh_from_db()
    assert character.widget_appearance == {}


def test_json_that_does_not_parse_comes_back_in_the_raw_view(admin_client, character):
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    payload["widget_appearance"] = '{"name": "Acme",'
    response = admin_client.post(url, payload)
    assert response.status_code == 200
    html = response.content.decode()
    assert "structured-json--raw" in html
    assert "{&quot;name&quot;: &quot;Acme&quot;," in html  # what was typed, kept


def test_view_site_leads_to_the_api_docs(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert '<a href="/api/docs/">View site</a>' in html
