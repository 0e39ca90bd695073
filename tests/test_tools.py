"""Tool integrations: `tools` and `mcp_servers`, their validation and their secret headers."""

import copy
import json

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.db import connection
from django.forms import modelform_factory
from django.utils.html import escape

from characters.crypto import decrypt
from characters.models import Character
from tests.helpers import (
    DOCUMENTED_EXAMPLE,
    HTTP_SECRET,
    MCP_SECRET,
    change_url,
    form_payload,
    item,
)

URL = "/api/ai-characters/support-bot/"
MASK = "********"

# The platform's documented example: an HTTP tool sending an X-Oshara-Secret header, and an
# MCP server with a tool on it.


def example():
    return copy.deepcopy(DOCUMENTED_EXAMPLE)


def masked(payload):
    """The example as responses must show it: every header value masked."""
    payload = copy.deepcopy(payload)
    for tool in payload["tools"]:
        for name in tool["config"].get("headers", {}):
            tool["config"]["headers"][name] = MASK
    for server in payload["mcp_servers"]:
        for name in server["headers"]:
            server["headers"][name] = MASK
    return payload


def errors_at(response, path):
    """The messages at a dotted path of a 400 body ("tools.0.config.url")."""
    assert response.status_code == 400, response.content
    node = response.json()
    for key in path.split("."):
        assert key in node, f"{path}: no {key!r} in {node}"
        node = node[key]
    assert isinstance(node, list) and node and all(isinstance(m, str) for m in node), node
    return node


def raw_columns(character):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tools, mcp_servers FROM characters_character WHERE id = %s", [character.id]
        )
        return cursor.fetchone()


def stored(character):
    character.refresh_from_db()
    return character.tools, character.mcp_servers


def http_tool(name="lookup", headers=None, **config):
    return {
        "name": name,
        "kind": "http",
        "config": {"url": "https://api.example.com/x", "headers": headers or {}, **config},
    }


# --- round trips ------------------------------------------------------------------------


def test_documented_example_patched_and_read_back_masked(auth_client, character):
    response = auth_client.patch(URL, example())
    assert response.status_code == 200, response.content
    assert {k: response.json()[k] for k in ("tools", "mcp_servers")} == masked(example())

    body = auth_client.get(URL).json()
    assert {k: body[k] for k in ("tools", "mcp_servers")} == masked(example())
    assert stored(character) == (example()["tools"], example()["mcp_servers"])


def test_tools_created_with_the_character(auth_client):
    response = auth_client.post("/api/ai-characters/", {"slug": "sales", "name": "S", **example()})
    assert response.status_code == 201, response.content
    assert response.json()["tools"] == masked(example())["tools"]
    assert Character.objects.get(slug="sales").tools == example()["tools"]


def test_defaults_are_filled_in(auth_client, character):
    payload = {
        "tools": [
            {"name": "ping", "kind": "http", "config": {"url": "https://example.com/ping"}},
            {"name": "ask", "kind": "mcp", "config": {"server_name": "s", "tool_name": "ask"}},
        ],
        "mcp_servers": [{"name": "s", "url": "https://mcp.example.com/"}],
    }
    body = auth_client.patch(URL, payload).json()
    empty_schema = {"type": "object", "properties": {}}
    assert body["tools"][0] == {
        "name": "ping",
        "kind": "http",
        "description": "",
        "input_schema": empty_schema,
        "config": {"url": "https://example.com/ping", "method": "POST", "headers": {}},
    }
    assert body["tools"][1]["input_schema"] == empty_schema
    assert body["mcp_servers"] == [
        {
            "name": "s",
            "url": "https://mcp.example.com/",
            "transport": "streamable_http",
            "headers": {},
            "timeout_seconds": 12,
            "is_active": True,
        }
    ]


def test_new_characters_have_no_tools(auth_client, character):
    body = auth_client.get(URL).json()
    assert body["tools"] == [] and body["mcp_servers"] == []
    assert raw_columns(character) == (None, None)


def test_put_without_tools_clears_them(auth_client, character):
    auth_client.patch(URL, example())
    response = auth_client.put(URL, {"slug": "support-bot", "name": "Support Bot"})
    assert response.status_code == 200, response.content
    assert response.json()["tools"] == [] and response.json()["mcp_servers"] == []
    assert stored(character) == ([], [])


def test_patch_of_another_field_keeps_tools(auth_client, character):
    auth_client.patch(URL, example())
    assert auth_client.patch(URL, {"greeting": "Hello"}).status_code == 200
    assert stored(character) == (example()["tools"], example()["mcp_servers"])


def test_multipart_request_carries_tools_as_json_text(auth_client, character):
    data = {"tools": json.dumps(example()["tools"])}
    data["mcp_servers"] = json.dumps(example()["mcp_servers"])
    response = auth_client.patch(URL, data, format="multipart")
    assert response.status_code == 200, response.content
    assert stored(character) == (example()["tools"], example()["mcp_servers"])


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["1tool", "has-hyphen", "has space", "é", "a" * 65, "", 7])
def test_tool_name_must_be_a_function_name(auth_client, character, name):
    errors_at(auth_client.patch(URL, {"tools": [http_tool(name)]}), "tools.0.name")


def test_tool_name_of_64_characters_is_accepted(auth_client, character):
    assert auth_client.patch(URL, {"tools": [http_tool("_" + "a" * 63)]}).status_code == 200


def test_tool_names_are_unique(auth_client, character):
    response = auth_client.patch(URL, {"tools": [http_tool("a"), http_tool("b"), http_tool("a")]})
    assert "already has the name" in errors_at(response, "tools.2.name")[0]
    assert "0" not in response.json()["tools"]


FORMS = {"forms": [{"id": "book-demo", "title": "Book a demo", "fields": [{"name": "email"}]}]}


def test_tool_name_cannot_collide_with_a_form_tool(auth_client, character):
    payload = {"widget_appearance": FORMS, "tools": [http_tool("book_demo")]}
    message = errors_at(auth_client.patch(URL, payload), "tools.0.name")[0]
    assert "book-demo" in message
    character.widget_appearance = FORMS
    character.save()
    errors_at(auth_client.patch(URL, {"tools": [http_tool("book_demo")]}), "tools.0.name")


def test_form_added_over_an_existing_tool_name_is_refused(auth_client, character):
    assert auth_client.patch(URL, {"tools": [http_tool("book_demo")]}).status_code == 200
    response = auth_client.patch(URL, {"widget_appearance": FORMS})
    assert "book_demo" in errors_at(response, "widget_appearance.forms.0.id")[0]


def test_tool_names_differing_from_form_tools_are_fine(auth_client, character):
    payload = {"widget_appearance": FORMS, "tools": [http_tool("book_demo_v2")]}
    assert auth_client.patch(URL, payload).status_code == 200


@pytest.mark.parametrize("kind", ["ftp", "HTTP", "", None, 1])
def test_tool_kind_is_http_or_mcp(auth_client, character, kind):
    tool = {**http_tool(), "kind": kind}
    errors_at(auth_client.patch(URL, {"tools": [tool]}), "tools.0.kind")


@pytest.mark.parametrize(
    "schema",
    [
        [],
        "object",
        {},
        {"type": "string"},
        {"type": "objekt"},
        {"type": "object", "properties": {"a": {"type": 12}}},
        {"type": "object", "required": "a"},
        {"$schema": "https://example.com/not-a-draft", "type": "object"},
    ],
)
def test_input_schema_must_be_a_valid_object_schema(auth_client, character, schema):
    tool = {**http_tool(), "input_schema": schema}
    errors_at(auth_client.patch(URL, {"tools": [tool]}), "tools.0.input_schema")


def test_input_schema_of_an_older_draft_is_accepted(auth_client, character):
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}
    tool = {**http_tool(), "input_schema": schema}
    assert auth_client.patch(URL, {"tools": [tool]}).status_code == 200


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({}, "url"),
        ({"url": "/relative/path"}, "url"),
        ({"url": "ftp://files.example.com/"}, "url"),
        ({"url": "example.com/api"}, "url"),
        ({"url": "https://api.example.com/", "method": "get"}, "method"),
        ({"url": "https://api.example.com/", "method": "TRACE"}, "method"),
        ({"url": "https://api.example.com/", "headers": ["X-Key: v"]}, "headers"),
        ({"url": "https://api.example.com/", "headers": {"Bad Name": "v"}}, "headers.Bad Name"),
        ({"url": "https://api.example.com/", "headers": {"X-Key": 42}}, "headers.X-Key"),
        ({"url": "https://api.example.com/", "headers": {"X-Key": ""}}, "headers.X-Key"),
        ({"url": "https://api.example.com/", "headers": {"X-A": "1", "x-a": "2"}}, "headers.x-a"),
        ({"url": "https://api.example.com/", "server_name": "s"}, "server_name"),
    ],
)
def test_http_config_rules(auth_client, character, config, path):
    tool = {"name": "t", "kind": "http", "config": config}
    errors_at(auth_client.patch(URL, {"tools": [tool]}), f"tools.0.config.{path}")


@pytest.mark.parametrize("config", [None, [], "https://api.example.com/"])
def test_config_must_be_an_object(auth_client, character, config):
    tool = {"name": "t", "kind": "http", "config": config}
    errors_at(auth_client.patch(URL, {"tools": [tool]}), "tools.0.config")


def test_header_value_with_a_line_break_is_refused_without_echoing_it(auth_client, character):
    headers = {"X-Key": f"{HTTP_SECRET}\r\nX-Injected: 1"}
    response = auth_client.patch(URL, {"tools": [http_tool(headers=headers)]})
    errors_at(response, "tools.0.config.headers.X-Key")
    assert HTTP_SECRET not in response.content.decode()


def test_too_many_headers(auth_client, character):
    headers = {f"X-H{index}": "v" for index in range(21)}
    errors_at(
        auth_client.patch(URL, {"tools": [http_tool(headers=headers)]}), "tools.0.config.headers"
    )


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({"tool_name": "search"}, "server_name"),
        ({"server_name": "acme-help"}, "tool_name"),
        ({"server_name": "nowhere", "tool_name": "search"}, "server_name"),
        ({"server_name": "acme-help", "tool_name": "search", "url": "https://x.com"}, "url"),
    ],
)
def test_mcp_config_rules(auth_client, character, config, path):
    payload = example()
    payload["tools"][1]["config"] = config
    errors_at(auth_client.patch(URL, payload), f"tools.1.config.{path}")


def test_mcp_tool_must_name_a_server_of_this_character(auth_client, character, make_character):
    make_character(character.owner, mcp_servers=example()["mcp_servers"])
    payload = {"tools": example()["tools"]}
    message = errors_at(auth_client.patch(URL, payload), "tools.1.config.server_name")[0]
    assert "acme-help" in message


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"url": "mcp.acme.com"}, "url"),
        ({"url": "ws://mcp.acme.com/"}, "url"),
        ({"transport": "websocket"}, "transport"),
        ({"transport": "STREAMABLE_HTTP"}, "transport"),
        ({"timeout_seconds": 1}, "timeout_seconds"),
        ({"timeout_seconds": 31}, "timeout_seconds"),
        ({"timeout_seconds": "12"}, "timeout_seconds"),
        ({"timeout_seconds": 30.5}, "timeout_seconds"),
        ({"timeout_seconds": 1.99}, "timeout_seconds"),
        ({"timeout_seconds": True}, "timeout_seconds"),
        ({"is_active": "yes"}, "is_active"),
        ({"is_active": 1}, "is_active"),
        ({"headers": {"Bad:Name": "x"}}, "headers.Bad:Name"),
        ({"api_key": "x"}, "api_key"),
    ],
)
def test_mcp_server_rules(auth_client, character, change, path):
    payload = example()
    payload["mcp_servers"][0].update(change)
    payload["tools"] = payload["tools"][:1]
    errors_at(auth_client.patch(URL, payload), f"mcp_servers.0.{path}")


@pytest.mark.parametrize("timeout", [2, 30, 12.5, 2.0, 29.75])
def test_mcp_timeout_is_a_number_with_inclusive_bounds(auth_client, character, timeout):
    payload = example()
    payload["mcp_servers"][0]["timeout_seconds"] = timeout
    response = auth_client.patch(URL, payload)
    assert response.status_code == 200, response.json()
    # kept as sent: 12 stays 12, 12.5 stays 12.5
    assert response.json()["mcp_servers"][0]["timeout_seconds"] == timeout
    assert type(response.json()["mcp_servers"][0]["timeout_seconds"]) is type(timeout)
    character.refresh_from_db()
    assert character.mcp_servers[0]["timeout_seconds"] == timeout


@pytest.mark.parametrize("transport", ["streamable_http", "sse", "http_json"])
def test_mcp_transports(auth_client, character, transport):
    payload = example()
    payload["mcp_servers"][0]["transport"] = transport
    assert auth_client.patch(URL, payload).status_code == 200


def test_mcp_server_names_are_unique(auth_client, character):
    payload = example()
    payload["mcp_servers"].append({**payload["mcp_servers"][0], "url": "https://b.example.com"})
    errors_at(auth_client.patch(URL, payload), "mcp_servers.1.name")


def test_removing_a_server_a_tool_uses_names_the_tool(auth_client, character):
    auth_client.patch(URL, example())
    response = auth_client.patch(URL, {"mcp_servers": []})
    [message] = errors_at(response, "mcp_servers")
    assert "search_help_centre" in message and "acme-help" in message
    assert stored(character) == (example()["tools"], example()["mcp_servers"])


def test_removing_a_server_with_its_tools_is_fine(auth_client, character):
    auth_client.patch(URL, example())
    response = auth_client.patch(URL, {"mcp_servers": [], "tools": example()["tools"][:1]})
    assert response.status_code == 200, response.content


def test_put_keeping_tools_but_omitting_their_server_is_refused(auth_client, character):
    auth_client.patch(URL, example())
    payload = {"slug": "support-bot", "name": "Support Bot", "tools": example()["tools"]}
    errors_at(auth_client.put(URL, payload), "tools.1.config.server_name")


def test_unknown_keys_in_a_tool_are_refused(auth_client, character):
    tool = {**http_tool(), "descripton": "typo"}
    errors_at(auth_client.patch(URL, {"tools": [tool]}), "tools.0.descripton")


def test_a_patch_still_requires_every_key_of_each_item(auth_client, character):
    """PATCH's partial mode must not reach inside the items of the lists."""
    response = auth_client.patch(URL, {"tools": [{"kind": "http", "config": {}}]})
    errors_at(response, "tools.0.name")
    errors_at(response, "tools.0.config.url")
    errors_at(auth_client.patch(URL, {"mcp_servers": [{"name": "s"}]}), "mcp_servers.0.url")


@pytest.mark.parametrize("value", [{}, "[]", None, [1]])
def test_lists_must_be_lists_of_objects(auth_client, character, value):
    response = auth_client.patch(URL, {"tools": value, "mcp_servers": value})
    assert response.status_code == 400
    assert {"tools", "mcp_servers"} <= response.json().keys()


def test_number_of_tools_is_capped(auth_client, character):
    tools = [http_tool(f"t{index}") for index in range(129)]
    errors_at(auth_client.patch(URL, {"tools": tools}), "tools")
    assert auth_client.patch(URL, {"tools": tools[:128]}).status_code == 200


# --- secrets ----------------------------------------------------------------------------


def assert_no_secret(response):
    text = response.content.decode()
    assert HTTP_SECRET not in text and MCP_SECRET not in text


def test_header_values_never_appear_in_a_response(auth_client, character):
    assert_no_secret(auth_client.patch(URL, example()))
    assert_no_secret(auth_client.get(URL))
    assert_no_secret(auth_client.get("/api/ai-characters/"))
    assert_no_secret(auth_client.get("/api/ai-characters/?limit=1"))
    put = {**masked(example()), "slug": "support-bot", "name": "Support Bot"}
    assert_no_secret(auth_client.put(URL, put))
    created = {**example(), "slug": "other", "name": "Other"}
    assert_no_secret(auth_client.post("/api/ai-characters/", created))
    invalid = {**example(), "language": "not a language!"}
    assert_no_secret(auth_client.patch(URL, invalid))


def test_header_values_are_encrypted_in_the_database(auth_client, character):
    auth_client.patch(URL, example())
    raw_tools, raw_servers = raw_columns(character)
    for raw, secret, plain_text in (
        (raw_tools, HTTP_SECRET, "check_order_status"),
        (raw_servers, MCP_SECRET, "acme-help"),
    ):
        assert secret not in raw and plain_text not in raw
        # One Fernet token per column value: key rotation re-encrypts it whole.
        assert secret in decrypt(raw)


def test_mask_sent_back_keeps_the_stored_values(auth_client, character):
    auth_client.patch(URL, example())
    body = auth_client.get(URL).json()
    body.pop("image")
    response = auth_client.put(URL, body)
    assert response.status_code == 200, response.content
    assert stored(character) == (example()["tools"], example()["mcp_servers"])


def test_new_value_replaces_the_stored_one(auth_client, character):
    auth_client.patch(URL, example())
    payload = masked(example())
    payload["tools"][0]["config"]["headers"]["X-Oshara-Secret"] = "rotated-value"
    assert auth_client.patch(URL, payload).status_code == 200
    tools, servers = stored(character)
    assert tools[0]["config"]["headers"] == {"X-Oshara-Secret": "rotated-value"}
    assert servers[0]["headers"] == {"Authorization": MCP_SECRET}


def test_omitted_header_is_removed(auth_client, character):
    payload = example()
    payload["tools"][0]["config"]["headers"]["X-Trace"] = "trace-value"
    auth_client.patch(URL, payload)
    payload = masked(payload)
    del payload["tools"][0]["config"]["headers"]["X-Oshara-Secret"]
    payload["mcp_servers"][0]["headers"] = {}
    assert auth_client.patch(URL, payload).status_code == 200
    tools, servers = stored(character)
    assert tools[0]["config"]["headers"] == {"X-Trace": "trace-value"}
    assert servers[0]["headers"] == {}


def test_mask_matches_header_names_ignoring_case(auth_client, character):
    auth_client.patch(URL, example())
    payload = masked(example())
    payload["tools"][0]["config"]["headers"] = {"x-oshara-secret": MASK}
    assert auth_client.patch(URL, payload).status_code == 200
    assert stored(character)[0][0]["config"]["headers"] == {"x-oshara-secret": HTTP_SECRET}


def test_mask_without_a_stored_value_is_refused(auth_client, character):
    auth_client.patch(URL, example())
    payload = masked(example())
    payload["tools"][0]["config"]["headers"]["X-New"] = MASK
    errors_at(auth_client.patch(URL, payload), "tools.0.config.headers.X-New")
    payload = masked(example())
    payload["tools"][0]["name"] = "renamed_tool"  # the secret belongs to the old name
    errors_at(auth_client.patch(URL, payload), "tools.0.config.headers.X-Oshara-Secret")
    created = {"slug": "new-bot", "name": "New", **masked(example())}
    response = auth_client.post("/api/ai-characters/", created)
    errors_at(response, "tools.0.config.headers.X-Oshara-Secret")
    errors_at(response, "mcp_servers.0.headers.Authorization")


@pytest.mark.parametrize(
    "new_url",
    [
        "https://evil.example.com/orders/status",  # another host
        "http://api.acme.com/orders/status",  # another scheme
        "https://api.acme.com:8443/orders/status",  # another port
    ],
)
def test_mask_is_refused_when_the_url_moves_to_another_host(auth_client, character, new_url):
    auth_client.patch(URL, example())
    payload = masked(example())
    payload["tools"][0]["config"]["url"] = new_url
    payload["mcp_servers"][0]["url"] = new_url
    response = auth_client.patch(URL, payload)
    (message,) = errors_at(response, "tools.0.config.headers.X-Oshara-Secret")
    assert "send this header's value again" in message
    errors_at(response, "mcp_servers.0.headers.Authorization")
    assert stored(character) == (example()["tools"], example()["mcp_servers"])  # nothing saved

    payload["tools"][0]["config"]["headers"]["X-Oshara-Secret"] = "for-the-new-host"
    payload["mcp_servers"][0]["headers"]["Authorization"] = "Bearer new-host"
    assert auth_client.patch(URL, payload).status_code == 200
    tools, servers = stored(character)
    assert tools[0]["config"]["headers"] == {"X-Oshara-Secret": "for-the-new-host"}
    assert servers[0]["headers"] == {"Authorization": "Bearer new-host"}


def test_mask_is_kept_when_only_the_path_or_spelling_of_the_host_changes(auth_client, character):
    auth_client.patch(URL, example())
    payload = masked(example())
    payload["tools"][0]["config"]["url"] = "HTTPS://API.acme.com:443/v2/orders"
    payload["mcp_servers"][0]["url"] = "https://mcp.acme.com/other-path"
    assert auth_client.patch(URL, payload).status_code == 200
    assert stored(character)[0][0]["config"]["headers"] == {"X-Oshara-Secret": HTTP_SECRET}
    assert stored(character)[1][0]["headers"] == {"Authorization": MCP_SECRET}


def test_admin_refuses_a_mask_when_the_url_moves_to_another_host(
    admin_client, auth_client, character
):
    auth_client.patch(URL, example())
    url = change_url(character)
    page = admin_client.get(url)
    tools = masked(example())["tools"]
    tools[0]["config"]["url"] = "https://evil.example.com/collect"
    response = admin_client.post(url, {**form_payload(page), "tools": json.dumps(tools)})
    assert response.status_code == 200
    (message,) = response.context["adminform"].form.errors["tools"]
    assert message.startswith("0.config.headers.X-Oshara-Secret: ")
    assert "send this header's value again" in message
    assert stored(character)[0] == example()["tools"]


def test_secrets_of_another_owner_are_out_of_reach(auth_client, other_client, character):
    auth_client.patch(URL, example())
    assert other_client.patch(URL, masked(example())).status_code == 404
    assert other_client.get(URL).status_code == 404


def test_tools_survive_key_rotation(auth_client, character, settings):
    old_key, new_key = settings.FERNET_KEYS[0], Fernet.generate_key().decode()
    auth_client.patch(URL, example())
    settings.FERNET_KEYS = [new_key, old_key]
    assert stored(character)[0] == example()["tools"]
    from characters.crypto import get_crypter

    rotated = [get_crypter().rotate(token.encode()).decode() for token in raw_columns(character)]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE characters_character SET tools = %s, mcp_servers = %s WHERE id = %s",
            [*rotated, character.id],
        )
    settings.FERNET_KEYS = [new_key]
    assert stored(character) == (example()["tools"], example()["mcp_servers"])


# --- model level (shared with the admin) ------------------------------------------------


def test_model_validation_refuses_bad_tools(character):
    character.tools = [{"name": "1bad", "kind": "http", "config": {"url": "nope"}}]
    with pytest.raises(ValidationError) as caught:
        character.full_clean()
    messages = caught.value.message_dict["tools"]
    assert any(m.startswith("0.name:") for m in messages)
    assert any(m.startswith("0.config.url:") for m in messages)


def test_model_validation_checks_references_and_fills_defaults(character):
    character.tools = example()["tools"]
    with pytest.raises(ValidationError) as caught:
        character.full_clean()
    assert caught.value.message_dict["tools"][0].startswith("1.config.server_name:")

    character.mcp_servers = [{"name": "acme-help", "url": "https://mcp.acme.com/mcp"}]
    character.full_clean()
    assert character.mcp_servers[0]["timeout_seconds"] == 12


def test_model_validation_refuses_form_tool_collisions(character):
    character.widget_appearance = FORMS
    character.tools = [http_tool("book_demo")]
    with pytest.raises(ValidationError) as caught:
        character.full_clean()
    assert caught.value.message_dict["tools"][0].startswith("0.name:")


def test_model_validation_refuses_a_mask_with_nothing_stored(character):
    character.mcp_servers = [{"name": "s", "url": "https://x.example.com", "headers": {"A": MASK}}]
    with pytest.raises(ValidationError) as caught:
        character.full_clean()
    assert caught.value.message_dict["mcp_servers"][0].startswith("0.headers.A:")


# --- forms (what the admin uses) --------------------------------------------------------

CharacterForm = modelform_factory(Character, fields=["slug", "name", "tools", "mcp_servers"])


def form_data(tools, servers):
    """What a browser posts: the fields, plus the hidden initial values the page held."""
    data = {"slug": "support-bot", "name": "Support Bot"}
    for name, value in (("tools", tools), ("mcp_servers", servers)):
        data[name] = json.dumps(value)
        data[f"initial-{name}"] = json.dumps(masked(example())[name])
    return data


@pytest.fixture
def character_with_tools(character):
    character.tools, character.mcp_servers = example()["tools"], example()["mcp_servers"]
    character.save()
    return character


def test_form_html_never_holds_a_header_value(character_with_tools):
    html = str(CharacterForm(instance=character_with_tools))
    assert HTTP_SECRET not in html and MCP_SECRET not in html
    assert "X-Oshara-Secret" in html and escape(json.dumps(MASK)) in html


def test_form_saved_unchanged_keeps_the_secrets(character_with_tools):
    form = CharacterForm(
        form_data(masked(example())["tools"], masked(example())["mcp_servers"]),
        instance=character_with_tools,
    )
    assert form.is_valid(), form.errors
    assert not form.has_changed()
    form.save()
    assert stored(character_with_tools) == (example()["tools"], example()["mcp_servers"])


def test_form_replaces_and_drops_headers(character_with_tools):
    payload = masked(example())
    payload["tools"][0]["config"]["headers"] = {"X-Oshara-Secret": "typed-in-the-admin"}
    payload["mcp_servers"][0]["headers"] = {}
    form = CharacterForm(
        form_data(payload["tools"], payload["mcp_servers"]), instance=character_with_tools
    )
    assert form.is_valid(), form.errors
    form.save()
    tools, servers = stored(character_with_tools)
    assert tools[0]["config"]["headers"] == {"X-Oshara-Secret": "typed-in-the-admin"}
    assert servers[0]["headers"] == {}


def test_form_applies_the_same_rules(character_with_tools):
    payload = masked(example())
    form = CharacterForm(form_data(payload["tools"], []), instance=character_with_tools)
    assert not form.is_valid()
    assert "1.config.server_name" in form.errors["tools"][0]
    payload["tools"][0]["config"]["headers"]["X-New"] = MASK
    form = CharacterForm(
        form_data(payload["tools"], payload["mcp_servers"]), instance=character_with_tools
    )
    assert not form.is_valid()
    assert form.errors["tools"] == [
        f'0.config.headers.X-New: "{MASK}" keeps a stored value, but this header has none yet: '
        "send its real value."
    ]
    html = str(form)
    assert HTTP_SECRET not in html and MCP_SECRET not in html


# Found by the fuzz stage (.ci/fuzz).


def test_tool_kind_of_the_wrong_type_is_400_not_500(auth_client, character):
    tool = {"name": "A", "kind": {}, "input_schema": {}, "config": {}}
    response = auth_client.patch(f"/api/ai-characters/{character.slug}/", {"tools": [tool]})
    assert response.status_code == 400
    assert "kind" in item(response.json()["tools"], 0)
