"""The fields the platform's clients send that the reference leaves out, through the API:
kb_query_url, the tool kinds kb and client_event, form fields' default_value, step ids.

Good values are stored and returned as sent; bad ones are a 400 naming the nested path, and
nothing is saved. (kb_query_api_key: test_encryption_api.py; is_active: test_widget_payload.py.)
"""

import pytest

from characters.models import Character
from tests.helpers import item

URL = "/api/ai-characters/"


def create(auth_client, **fields):
    return auth_client.post(URL, {"slug": "bot", "name": "Bot", **fields})


def refused(auth_client, **fields):
    response = create(auth_client, **fields)
    assert response.status_code == 400, response.json()
    assert not Character.objects.filter(slug="bot").exists()
    return response.json()


# kb_query_url


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", "https://kb.acme.com/search", "http://10.0.0.5:8080/q"])
def test_kb_query_url_accepts_http_urls_and_empty(auth_client, value):
    response = create(auth_client, kb_query_url=value)
    assert response.status_code == 201
    assert response.json()["kb_query_url"] == value


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["ftp://kb.acme.com", "kb.acme.com", "not a url", 42, None])
def test_kb_query_url_refuses_anything_else(auth_client, value):
    assert set(refused(auth_client, kb_query_url=value)) == {"kb_query_url"}


@pytest.mark.django_db
def test_put_resets_kb_query_url_and_keeps_the_key(auth_client):
    create(auth_client, kb_query_url="https://kb.acme.com", kb_query_api_key="kb-secret-1")
    response = auth_client.put(f"{URL}bot/", {"slug": "bot", "name": "Bot"})
    assert response.json()["kb_query_url"] == ""
    assert response.json()["has_kb_query_api_key"] is True


# Tool kinds


@pytest.mark.django_db
def test_kb_tool_gets_the_default_input_schema(auth_client):
    response = create(auth_client, tools=[{"name": "search_docs", "kind": "kb", "config": {}}])
    assert response.status_code == 201, response.json()
    (tool,) = response.json()["tools"]
    assert tool == {
        "name": "search_docs",
        "kind": "kb",
        "description": "",
        "input_schema": {
            "type": "object",
            "properties": {
                "query": {
                    "type": "string",
                    "description": "What to search the knowledge base for.",
                },
                "top_k": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 20,
                    "description": "How many passages to return.",
                },
            },
            "required": ["query"],
        },
        "config": {},
    }


@pytest.mark.django_db
def test_a_given_input_schema_is_kept(auth_client):
    schema = {"type": "object", "properties": {"q": {"type": "string"}}}
    tools = [
        {"name": "search_docs", "kind": "kb", "config": {}, "input_schema": schema},
        {"name": "other", "kind": "http", "config": {"url": "https://a.com"}},
    ]
    response = create(auth_client, tools=tools)
    kb, http = response.json()["tools"]
    assert kb["input_schema"] == schema
    assert http["input_schema"] == {"type": "object", "properties": {}}  # unchanged default


@pytest.mark.django_db
@pytest.mark.parametrize("topic", ["acme.offer", "lk.chat", "show_product-card", "A1"])
def test_client_event_tool_with_a_topic(auth_client, topic):
    tools = [{"name": "show", "kind": "client_event", "config": {"topic": topic}}]
    response = create(auth_client, tools=tools)
    assert response.status_code == 201, response.json()
    assert response.json()["tools"][0]["config"] == {"topic": topic}
    assert auth_client.get(f"{URL}bot/").json()["tools"][0]["config"] == {"topic": topic}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({}, "topic"),
        ({"topic": ""}, "topic"),
        ({"topic": "has space"}, "topic"),
        ({"topic": "a/b"}, "topic"),
        ({"topic": "x" * 129}, "topic"),
        ({"topic": 7}, "topic"),
        ({"topic": "ok", "extra": 1}, "extra"),
    ],
)
def test_client_event_config_is_strict(auth_client, config, path):
    tools = [{"name": "show", "kind": "client_event", "config": config}]
    errors = refused(auth_client, tools=tools)
    assert set(item(errors["tools"], 0)["config"]) == {path}


@pytest.mark.django_db
@pytest.mark.parametrize("config", [{"url": "https://a.com"}, {"top_k": 3}])
def test_kb_config_takes_nothing(auth_client, config):
    errors = refused(auth_client, tools=[{"name": "s", "kind": "kb", "config": config}])
    assert set(item(errors["tools"], 0)["config"]) == set(config)


@pytest.mark.django_db
def test_unknown_kind_lists_the_four(auth_client):
    errors = refused(auth_client, tools=[{"name": "s", "kind": "search", "config": {}}])
    message = item(errors["tools"], 0)["kind"][0]
    for kind in ("http", "mcp", "kb", "client_event"):
        assert f'"{kind}"' in message


# Form fields' default_value and step ids


def form_with(field=None, steps=None):
    form = {"id": "lead", "title": "Lead"}
    if steps is not None:
        form["steps"] = steps
    else:
        form["fields"] = [field]
    return {"forms": [form]}


GOOD_DEFAULTS = [
    {"name": "n", "default_value": "Ada"},
    {"name": "n", "default_value": ""},
    {"name": "n", "type": "textarea", "default_value": "Line 1\nLine 2"},
    {"name": "n", "type": "text", "min": 2, "max": 5, "default_value": "abc"},
    {"name": "n", "pattern": "[A-Z]+", "default_value": "ABC"},
    # Not matched server-side (see field_values.text_problem): the browser applies it.
    {"name": "n", "pattern": "(a+)+$", "default_value": "a" * 40 + "b"},
    {"name": "n", "type": "tel", "default_value": "+44 20 7946 0958"},
    {"name": "n", "type": "email", "default_value": "ada@example.com"},
    {"name": "n", "type": "url", "default_value": "https://acme.com/p"},
    {"name": "n", "type": "number", "default_value": 3},
    {"name": "n", "type": "number", "min": 1, "max": 10, "default_value": 2.5},
    {"name": "n", "type": "date", "default_value": "2026-01-31"},
    {"name": "n", "type": "date", "min": "2026-01-01", "default_value": "2026-06-01"},
    {"name": "n", "type": "time", "default_value": "09:30"},
    {"name": "n", "type": "select", "options": ["a", "b"], "default_value": "b"},
    {"name": "n", "type": "radio", "options": [{"value": "x", "label": "X"}], "default_value": "x"},
    {"name": "n", "type": "checkbox", "default_value": True},
    {"name": "n", "type": "checkbox", "options": ["a", "b"], "default_value": ["b"]},
]


@pytest.mark.django_db
@pytest.mark.parametrize("field", GOOD_DEFAULTS)
def test_default_value_of_the_fields_type_is_stored_and_returned(auth_client, field):
    response = create(auth_client, widget_appearance=form_with(field))
    assert response.status_code == 201, response.json()
    stored = response.json()["widget_appearance"]["forms"][0]["fields"][0]
    assert stored == field


BAD_DEFAULTS = [
    {"name": "n", "default_value": 5},
    {"name": "n", "default_value": None},
    {"name": "n", "default_value": {"a": 1}},
    {"name": "n", "type": "text", "max": 3, "default_value": "toolong"},
    {"name": "n", "type": "email", "default_value": "not-an-email"},
    {"name": "n", "type": "email", "default_value": ""},
    {"name": "n", "type": "url", "default_value": "acme"},
    {"name": "n", "type": "number", "default_value": "3"},
    {"name": "n", "type": "number", "default_value": True},
    {"name": "n", "type": "number", "min": 1, "max": 10, "default_value": 11},
    {"name": "n", "type": "number", "min": 1, "default_value": 0},
    {"name": "n", "type": "date", "default_value": "31/01/2026"},
    {"name": "n", "type": "date", "max": "2026-01-01", "default_value": "2026-06-01"},
    {"name": "n", "type": "time", "default_value": "25:00"},
    {"name": "n", "type": "select", "options": ["a", "b"], "default_value": "c"},
    {"name": "n", "type": "radio", "options": ["a"], "default_value": ["a"]},
    {"name": "n", "type": "checkbox", "default_value": "true"},
    {"name": "n", "type": "checkbox", "options": ["a", "b"], "default_value": ["c"]},
    {"name": "n", "type": "checkbox", "options": ["a", "b"], "default_value": ["a", "a"]},
]


@pytest.mark.django_db
@pytest.mark.parametrize("field", BAD_DEFAULTS)
def test_default_value_outside_the_fields_type_is_a_400_on_its_path(auth_client, field):
    errors = refused(auth_client, widget_appearance=form_with(field))
    form = item(errors["widget_appearance"]["forms"], 0)
    assert set(item(form["fields"], 0)) == {"default_value"}


@pytest.mark.django_db
def test_step_ids_are_optional_and_unique_in_their_form(auth_client):
    steps = [
        {"id": "contact", "title": "Contact", "fields": [{"name": "a"}]},
        {"title": "More", "fields": [{"name": "b"}]},
        {"id": "step-3", "title": "End", "fields": [{"name": "c"}]},
    ]
    response = create(auth_client, widget_appearance=form_with(steps=steps))
    assert response.status_code == 201, response.json()
    assert response.json()["widget_appearance"]["forms"][0]["steps"] == steps

    steps[2]["id"] = "contact"
    Character.objects.filter(slug="bot").delete()
    errors = refused(auth_client, widget_appearance=form_with(steps=steps))
    form = item(errors["widget_appearance"]["forms"], 0)
    assert set(form["steps"]) == {"2"}
    assert set(item(form["steps"], 2)) == {"id"}


@pytest.mark.django_db
@pytest.mark.parametrize("step_id", ["", "has space", "-x", 3, "x" * 65])
def test_bad_step_id_is_a_400_on_its_path(auth_client, step_id):
    steps = [{"id": step_id, "title": "T", "fields": [{"name": "a"}]}]
    errors = refused(auth_client, widget_appearance=form_with(steps=steps))
    form = item(errors["widget_appearance"]["forms"], 0)
    assert set(item(form["steps"], 0)) == {"id"}
