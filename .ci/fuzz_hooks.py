"""Schemathesis hooks for the positive pass of .ci/fuzz: the state no schema can express.

A generated body can be valid by the schema and still be refused for what the database
holds: a slug already taken by an earlier generated character, a handoff target that does
not exist, a PUT whose body renames the character, a file that must decode as an image or
audio, a JSON file field that must repeat the stored URL, an Idempotency-Key already used
for another body, names that must be unique across a list, an MCP tool that must name one
of the body's MCP servers. These hooks make such references point
at the characters .ci/fuzz creates (support-bot, sales-agent), so that a refusal left is a
rule the schema fails to describe. Path slugs of character writes go to support-bot, so PUT
and PATCH reach their 200 branches too.
"""

import io
import itertools
import wave

import schemathesis
from PIL import Image

CHARACTERS = "/api/ai-characters/"
WRITTEN = "support-bot"
_serial = itertools.count(1)


def _is_character_write(ctx):
    operation = getattr(ctx, "operation", None)
    return (
        operation is not None
        and operation.path.startswith(CHARACTERS)
        and (operation.method.upper() in ("POST", "PUT", "PATCH"))
    )


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "#6366F1").save(buffer, format="PNG")
    return buffer.getvalue()


def _wav():
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * 800)
    return buffer.getvalue()


FILES = {"image": _png(), "voice.audio_file": _wav()}


def _unique_by_name(items):
    seen = set()
    return [
        i
        for i in items
        if isinstance(i, dict) and not (i.get("name") in seen or seen.add(i.get("name")))
    ]


def _fix_lists(body):
    servers = _unique_by_name(body.get("mcp_servers") or [])
    if "mcp_servers" in body:
        body["mcp_servers"] = servers
    if "tools" in body:
        tools = []
        for tool in _unique_by_name(body["tools"] or []):
            if tool.get("kind") == "mcp" and isinstance(tool.get("config"), dict):
                if not servers:
                    continue
                tool["config"]["server_name"] = servers[0]["name"]
            tools.append(tool)
        body["tools"] = tools


@schemathesis.hook
def map_headers(ctx, headers):
    if headers and "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = f"{headers['Idempotency-Key'][:200]}-{next(_serial)}"
    return headers


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    if _is_character_write(ctx) and path_parameters and "slug" in path_parameters:
        path_parameters["slug"] = WRITTEN
    return path_parameters


@schemathesis.hook
def map_body(ctx, body):
    if not _is_character_write(ctx) or not isinstance(body, dict):
        return body
    creating = ctx.operation.method.upper() == "POST"
    if "slug" in body:
        # A fresh slug for each create (a generated one may already be taken); on PUT and
        # PATCH the slug cannot change.
        body["slug"] = f"{body['slug'][:50]}-{next(_serial)}" if creating else WRITTEN
    if body.get("handoff_targets"):
        body["handoff_targets"] = [{"slug": "support-bot" if creating else "sales-agent"}]
    for key, content in FILES.items():
        if isinstance(body.get(key), bytes):
            body[key] = content  # a multipart upload
    if "image" in body and isinstance(body["image"], str):
        body["image"] = None  # JSON: keeping needs the stored URL, which this run cannot know
    voice = body.get("voice")
    if isinstance(voice, dict) and isinstance(voice.get("audio_file"), str):
        voice["audio_file"] = None
    _fix_lists(body)
    return body
