"""Hostile input against every operation of the OpenAPI schema (issue 28.6): lone
surrogates, NUL, 2,000-deep nesting, huge numbers, repeated keys and wrong types, as whole
bodies, in every property of every request body (JSON and multipart) and in every query
parameter. Path parameters name objects that exist, so each request reaches its view. Not
one answer may be a 5xx, on SQLite or PostgreSQL."""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.api_keys.models import ApiKey
from knowledge.models import Document
from tests.helpers import ACME_ORIGIN, AGENT_WORKER_TEST_KEY, client_for, upload

pytestmark = pytest.mark.usefixtures("form_settings")

# Deletes last: they remove the objects the other operations need.
METHODS = ("get", "options", "post", "put", "patch", "delete")
DEEP = "[" * 2000 + "]" * 2000
# Whole bodies, as raw text: json.dumps cannot write most of them.
BODIES = [
    '"\\ud800"',
    '{"a\\udfffb": 1}',
    '{"name": "x\\ud800"}',
    '"\\u0000"',
    '{"a\\u0000": 1}',
    '{"name": "a\\u0000b"}',
    DEEP,
    '{"a": ' + DEEP + "}",
    "9" * 5000,
    '{"n": ' + "9" * 5000 + "}",
    '{"n": 1e999, "m": -1e999}',
    '{"n": 99999999999999999999}',
    '{"n": NaN}',
    '{"a": 1, "a": 2}',
    '{"name": "x", "name": "y"}',
    "[]",
    "null",
    "true",
    '"text"',
    "12345",
    "{",
    "",
]
RAW_BODIES = [b"\xed\xa0\x80", b'{"name": "\xff\xfe"}', b"\x00"]
# Each property of a body in turn, every other one left out. 2**63 - 1 is the largest
# integer the parser takes: every column it reaches must refuse it or hold it.
PROPERTY_VALUES = [
    "12345",
    "-1",
    "1.5",
    str(2**63 - 1),
    str(-(2**63)),
    "1e308",
    "true",
    "null",
    '""',
    '"text"',
    '"' + "x" * 5000 + '"',
    "[]",
    "{}",
    '[{"a": null}]',
    '{"a": {"b": [1, "x", null]}}',
    '"\\ud800"',
    '"\\u0000"',
    "9" * 30,
]
MULTIPART_VALUES = [
    b"\x00",
    b"a\x00b",
    b"\xed\xa0\x80",
    b"\xff\xfe",
    b"9" * 5000,
    DEEP.encode(),
    b'{"a": 1, "a": 2}',
    b"",
    b"true",
    b"[]",
    str(2**63 - 1).encode(),
]
QUERY_VALUES = [
    "%00",
    "%ED%A0%80",
    "%FF",
    "9" * 5000,
    "-1",
    "1e999",
    "NaN",
    "[",
    "",
    "x" * 5000,
    "2026-13-45",
]
BOUNDARY = "hostile-boundary"
FILE_FIELDS = {"file", "image", "voice_audio_file"}


@pytest.fixture
def objects(sales_agent, sales_session, user, auth_client, django_capture_on_commit_callbacks):
    """Something real behind every path parameter."""
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(
            "/api/knowledge-base/sales-agent/documents/",
            {"file": upload("notes.txt", "Our demos last thirty minutes.")},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    key = auth_client.post("/api/auth/api-keys/", {"name": "hostile"}, format="json")
    assert key.status_code == 201, key.content
    return {
        "slug": sales_agent.slug,
        "session_id": sales_session,
        "document": Document.objects.get().pk,
        "api_key": ApiKey.objects.get().pk,
    }


def resolve(schema, node):
    while isinstance(node, dict) and "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node or {}


def properties(schema, body_schema):
    """Every property name a body may have (variants' properties merged)."""
    node = resolve(schema, body_schema)
    names = set(node.get("properties", {}))
    for variant in node.get("oneOf", []) + node.get("anyOf", []) + node.get("allOf", []):
        names |= set(resolve(schema, variant).get("properties", {}))
    return sorted(names)


def fill(path, objects):
    kind = "api_key" if path.startswith("/api/auth/api-keys/") else "document"
    return (
        path.replace("{slug}", objects["slug"])
        .replace("{session_id}", objects["session_id"])
        .replace("{id}", str(objects[kind]))
        .replace("{number}", "1")  # a character's first version
    )


def client_for_path(path, user):
    """The worker's key on its endpoints; elsewhere the owner's token from the character's
    own origin, so public and owner-only operations alike get past their gates."""
    if path.startswith("/api/agents/sessions/"):
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=AGENT_WORKER_TEST_KEY)
        return client
    client = client_for(user)
    client.defaults["HTTP_ORIGIN"] = ACME_ORIGIN
    return client


def multipart(fields):
    lines = []
    for name, value in fields.items():
        header = f'Content-Disposition: form-data; name="{name}"'.encode()
        if name in FILE_FIELDS:  # a file part, its name as hostile as its content
            header += b'; filename="a\x00\xed\xa0\x80.txt"'
        lines += [f"--{BOUNDARY}".encode(), header, b"", value]
    return b"\r\n".join([*lines, f"--{BOUNDARY}--".encode(), b""])


def requests_for(schema, path, method, operation):
    """(description, keyword arguments of client.generic) for every hostile variant."""
    content = operation.get("requestBody", {}).get("content", {})
    yield "bare", {}
    if method != "get":
        for body in BODIES:
            yield f"body {body[:30]!r}", {"data": body, "content_type": "application/json"}
        for body in RAW_BODIES:
            yield f"raw {body!r}", {"data": body, "content_type": "application/json"}
    if "application/json" in content:
        for name in properties(schema, content["application/json"]["schema"]):
            for value in PROPERTY_VALUES:
                yield (
                    f"{name}={value[:30]}",
                    {"data": f'{{"{name}": {value}}}', "content_type": "application/json"},
                )
    if "multipart/form-data" in content:
        for name in properties(schema, content["multipart/form-data"]["schema"]):
            for value in MULTIPART_VALUES:
                yield (
                    f"multipart {name}={value[:30]!r}",
                    {
                        "data": multipart({name: value}),
                        "content_type": f"multipart/form-data; boundary={BOUNDARY}",
                    },
                )
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query":
            continue
        for value in QUERY_VALUES:
            yield (
                f"?{parameter['name']}={value[:30]}",
                {"QUERY_STRING": f"{parameter['name']}={value}"},
            )


def test_no_hostile_input_is_a_5xx_on_any_operation(objects, user):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    failures, operations, sent = [], set(), 0
    for method in METHODS:
        for path, item in schema["paths"].items():
            if method not in item:
                continue
            operations.add((method, path))
            url = fill(path, objects)
            client = client_for_path(path, user)
            for description, kwargs in requests_for(schema, path, method, item[method]):
                response = client.generic(method.upper(), url, **kwargs)
                sent += 1
                if response.status_code >= 500:
                    failures.append((method.upper(), path, description, response.status_code))
    assert not failures, json.dumps(failures[:40], indent=1)
    # Every operation of the schema was walked, none left out by its method.
    assert all(method in METHODS for item in schema["paths"].values() for method in item)
    assert len(operations) >= 30 and sent > 1000
