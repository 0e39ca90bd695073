"""Schemathesis hooks for the positive pass of .ci/fuzz: the state no schema can express.

A generated body can be valid by the schema and still be refused for what the database
holds: a slug already taken by an earlier generated character, a handoff target that does
not exist, a PUT whose body renames the character, a file that must decode as an image or
audio, a JSON file field that must repeat the stored URL, an Idempotency-Key already used
for another body, names (form ids, field names, option values, header names ignoring case,
language codes) that must be unique across a list, a default_value within its field's
min/max and among its options, a field pattern that must compile, an MCP tool that must
name one of the body's MCP servers, a free-form JSON value (a tool's `input_schema`) whose
nested strings and numbers must be storable (no NUL, no surrogate, integers of 64 bits, finite
numbers: oshara/http/json_input.py), which OpenAPI 3.0 cannot say of an open object. These
hooks make such references point at the characters .ci/fuzz creates (support-bot,
sales-agent), so that a refusal left is a rule the schema fails to describe. Path slugs of
character writes go to support-bot, so PUT and PATCH reach their 200 branches too.
"""

import io
import itertools
import math
import re
import wave

import schemathesis
from PIL import Image

# The server's own rule for header names (a regular expression, no Django needed).
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}\Z")

CHARACTERS = "/api/ai-characters/"
WRITTEN = "support-bot"
_serial = itertools.count(1)


# The character itself: the collection and one character (not its versions, publish, ...).
CHARACTER_PATHS = {CHARACTERS, CHARACTERS + "{slug}/"}


def _is_character_write(ctx):
    operation = getattr(ctx, "operation", None)
    return (
        operation is not None
        and operation.path in CHARACTER_PATHS
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


def _unique(items, key="name", normal=str):
    """The items whose key (normalized) no earlier item has."""
    seen = set()
    kept = []
    for item in items:
        value = item.get(key) if isinstance(item, dict) else None
        mark = normal(value) if isinstance(value, str) else value
        if isinstance(item, dict) and (value is None or mark not in seen):
            kept.append(item)
            seen.add(mark)
    return kept


def _headers(headers):
    """RFC 9110 token names, distinct ignoring case (OpenAPI 3.0 cannot constrain keys)."""
    if not isinstance(headers, dict):
        return headers
    fixed = {}
    for name, value in headers.items():
        if not HEADER_NAME.match(name) or name.lower() in {n.lower() for n in fixed}:
            name = f"X-Fuzz-{next(_serial)}"
        fixed[name] = value
    return fixed


def _fix_form_field(field):
    """min <= max, and a default_value inside them and among the options."""
    _fix_options(field)
    low, high = field.get("min"), field.get("max")
    if _comparable(low, high) and low > high:
        field["min"], field["max"] = high, low
    if "pattern" in field:
        try:
            re.compile(field["pattern"])
        except (re.error, RecursionError, OverflowError):
            del field["pattern"]
    if "default_value" not in field:
        return
    value, kind = field["default_value"], field.get("type", "text")
    values = [o if isinstance(o, str) else o.get("value") for o in field.get("options") or []]
    if kind in ("select", "radio"):
        field["default_value"] = values[0]
    elif kind == "checkbox" and isinstance(value, list):
        field["default_value"] = values[:1] if values else True
    elif not _within(value, kind, field.get("min"), field.get("max")):
        del field["default_value"]


def _comparable(low, high):
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high))
    return numbers or (isinstance(low, str) and isinstance(high, str))


def _within(value, kind, low, high):
    if kind in ("text", "tel", "textarea"):
        value = len(value) if value else None  # a length; "" is no pre-fill
    elif kind not in ("number", "date", "time"):
        return True
    return value is None or ((low is None or low <= value) and (high is None or value <= high))


def _unique_options(options):
    seen, kept = set(), []
    for option in options:
        value = option if isinstance(option, str) else option.get("value")
        if value not in seen:
            kept.append(option)
            seen.add(value)
    return kept


def _fix_form(form):
    if isinstance(form.get("fields"), list):
        form["fields"] = _unique(form["fields"])
        groups = [form["fields"]]
    else:
        form["steps"] = _unique(form.get("steps") or [], key="id")
        seen, groups = set(), []
        for step in form["steps"]:  # names are unique across the steps
            step["fields"] = [f for f in _unique(step["fields"]) if f["name"] not in seen]
            seen |= {f["name"] for f in step["fields"]}
            groups.append(step["fields"])
        form["steps"] = [s for s in form["steps"] if s["fields"]] or form["steps"][:1]
        if not form["steps"][0]["fields"]:
            form["steps"][0]["fields"] = [{"name": f"field_{next(_serial)}"}]
    for group in groups:
        for field in group:
            _fix_form_field(field)


def _fix_appearance(appearance):
    if not isinstance(appearance, dict):
        return set()
    if isinstance(appearance.get("languages"), list):
        appearance["languages"] = _unique(appearance["languages"], "code", str.lower)
        codes = [language["code"] for language in appearance["languages"]]
        if "default_language" in appearance and codes:
            appearance["default_language"] = codes[0]
    forms = _unique(appearance.get("forms") or [], "id", lambda i: i.replace("-", "_"))
    if "forms" in appearance:
        appearance["forms"] = forms
    for form in forms:
        _fix_form(form)
    return {form["id"].replace("-", "_") for form in forms}


# schemathesis 4.32 sometimes builds a oneOf variant's object from its siblings' keys (a
# `kind: kb` tool with an http config, an option string outside its branch): the schema
# says each variant exactly (oshara/schema_variants.py), the hooks put such values back in.
CONFIG_KEYS = {
    "http": {"url": "https://example.com/hook"},
    "mcp": {"server_name": "", "tool_name": "search"},
    "kb": {},
    "client_event": {"topic": "fuzz.event"},
}
OPTIONAL_CONFIG_KEYS = {"http": {"method", "headers"}}


def _fix_config(tool):
    kind, config = tool.get("kind"), tool.get("config")
    if kind not in CONFIG_KEYS or not isinstance(config, dict):
        return
    allowed = set(CONFIG_KEYS[kind]) | OPTIONAL_CONFIG_KEYS.get(kind, set())
    tool["config"] = {
        **CONFIG_KEYS[kind],
        **{key: value for key, value in config.items() if key in allowed},
    }


def _fix_options(field):
    options = [
        option
        for option in field.get("options") or []
        if isinstance(option, str | dict)
        and "\x00" not in str(option)
        and (option if isinstance(option, str) else option.get("value"))
    ]
    if "options" in field:
        field["options"] = _unique_options(options) or ["a"]


# The parser's limits (oshara/http/json_input.py), for values nested in a free-form object.
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")
INT64 = range(-(2**63), 2**63)


def _storable(value):
    """`value` with every nested string, key and number made storable."""
    if isinstance(value, str):
        return UNSTORABLE_TEXT.sub("", value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if value in INT64 else 0
    if isinstance(value, float):
        return value if math.isfinite(value) else 0.0
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    return value


def _fix_lists(body, form_tools):
    servers = _unique(body.get("mcp_servers") or [])
    for server in servers:
        server["headers"] = _headers(server.get("headers", {}))
    if "mcp_servers" in body:
        body["mcp_servers"] = servers
    if "tools" in body:
        tools = []
        for tool in _unique(body["tools"] or []):
            if tool.get("name") in form_tools:
                continue  # a form's id already makes a tool of that name
            _fix_config(tool)
            if "input_schema" in tool:
                tool["input_schema"] = _storable(tool["input_schema"])
            config = tool.get("config")
            if tool.get("kind") == "mcp" and isinstance(config, dict):
                if not servers:
                    continue
                config["server_name"] = servers[0]["name"]
            if tool.get("kind") == "http" and isinstance(config, dict) and "headers" in config:
                config["headers"] = _headers(config["headers"])
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
def filter_case(ctx, case):
    # The body is declared optional for generated clients only (oshara/schema_rules.py):
    # a create without one is a 400 naming the missing fields.
    whole = _is_character_write(ctx) and case.method.upper() != "PATCH"
    return not whole or (isinstance(case.body, dict) and bool(case.body))


@schemathesis.hook
def map_case(ctx, case):
    body = case.body
    if not _is_character_write(ctx) or not isinstance(body, dict):
        return case
    creating = case.method.upper() == "POST"
    multipart = (case.media_type or "").startswith("multipart/")
    if "slug" in body:
        # A fresh slug for each create (a generated one may already be taken); on PUT and
        # PATCH the slug cannot change.
        body["slug"] = f"{body['slug'][:50]}-{next(_serial)}" if creating else WRITTEN
    if body.get("handoff_targets"):
        body["handoff_targets"] = [{"slug": "support-bot" if creating else "sales-agent"}]
    for key, content in FILES.items():
        if multipart and key in body:
            body[key] = content  # an upload must decode as an image or audio
    if "image" in body and not multipart:
        body["image"] = None  # JSON: keeping needs the stored URL, which this run cannot know
    voice = body.get("voice")
    if isinstance(voice, dict) and isinstance(voice.get("audio_file"), str):
        voice["audio_file"] = None
    form_tools = _fix_appearance(body.get("widget_appearance"))
    _fix_lists(body, form_tools)
    return case
