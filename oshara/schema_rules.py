"""Postprocessing hooks: the served schema says what the server enforces and returns.

Generated SDKs and schema-driven fuzzers trust the schema literally, so every rule the
validators apply and the serializers cannot express is added here, once for all endpoints:

- request components are closed (`additionalProperties: false`: unknown keys are a 400);
- strings refuse NUL, non-blank strings refuse whitespace-only values (DRF trims them),
  http(s) URLs, origins, colours and language tags carry the patterns their validators use;
- "URL or empty" is an `anyOf` (a plain JSON Schema validator matches `""` once);
- every field a response always carries is `required`;
- public operations declare `security: []`;
- a required body offered in two content types is declared optional, so that
  openapi-python-client (0.29) generates importable code (the server still answers an empty
  body with a 400 naming the missing fields).
"""

from oshara.language_tags import language_tag_pattern

NO_NUL = r"^[^\u0000]*$"
NOT_BLANK = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
# What URLValidator(schemes=http, https) accepts, narrowed to hosts it certainly does: names,
# IPv4 and bracketed IPv6 literals, ports 1-65535.
# A name of at most 253 characters, as URLValidator's host length limit (the lookahead: the
# run of name characters ends within 253).
_NAME = (
    r"localhost|(?=[a-z0-9.-]{1,253}(?![a-z0-9.-]))"
    r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"({_OCTET}\.){{3}}{_OCTET}"
_H16 = r"[0-9a-fA-F]{1,4}"
_IPV6 = (
    rf"\[(({_H16}:){{7}}{_H16}|({_H16}:){{1,7}}:|({_H16}:){{1,6}}:{_H16}"
    + "".join(rf"|({_H16}:){{1,{6 - n}}}(:{_H16}){{1,{n + 1}}}" for n in range(1, 5))
    + rf"|{_H16}:(:{_H16}){{1,6}}|:((:{_H16}){{1,7}}|:))\]"
)
_PORT = (
    r"(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
)
_HOST = rf"({_NAME}|{_IPV4}|{_IPV6}){_PORT}"
HTTP_URL = rf"^https?://{_HOST}(/[^\s\u0000?#]*)?$"
# An allowed_origins entry may carry a path: it is stored as its origin
# (characters.validators.stored_origins).
ORIGIN = HTTP_URL
HEX_COLOUR = r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"
PASSWORD_RULES = (
    "At least 8 characters, not entirely numeric, not a commonly used password and not "
    "too similar to the e-mail address (Django's password validators); a 400 names each "
    "rule that fails."
)
COLOUR_SUFFIX = "_color"
LANGUAGE_FIELDS = {"language", "default_language"}


def _components(result):
    return result.setdefault("components", {}).setdefault("schemas", {})


def _is_url_or_empty(schema):
    branches = schema.get("oneOf")
    if not isinstance(branches, list):
        return False
    return len(branches) == 2 and any(b.get("format") == "uri" for b in branches)


def _string_rule(name, prop):
    """The pattern for one request string property, or None to leave it as it is."""
    if prop.get("type") != "string" or "enum" in prop or prop.get("format") == "binary":
        return None
    if prop.get("format") == "uri":
        return HTTP_URL
    if name.endswith(COLOUR_SUFFIX):
        return HEX_COLOUR
    if name in LANGUAGE_FIELDS:
        return language_tag_pattern()
    if "pattern" in prop:
        return None
    return NOT_BLANK if prop.get("minLength", 0) >= 1 else NO_NUL


def _tighten(name, prop):
    if "anyOf" in prop:
        for branch in prop["anyOf"]:
            if branch.get("format") == "uri":
                branch["pattern"] = HTTP_URL
        return
    if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        item_name = "origin" if name == "allowed_origins" else name
        _tighten(item_name, prop["items"])
        return
    if name == "origin" and prop.get("type") == "string":
        prop["pattern"] = ORIGIN
        return
    if pattern := _string_rule(name, prop):
        prop["pattern"] = pattern


def _url_or_empty_as_any_of(schema):
    if isinstance(schema, dict):
        if _is_url_or_empty(schema):
            schema["anyOf"] = schema.pop("oneOf")
        for value in schema.values():
            _url_or_empty_as_any_of(value)
    elif isinstance(schema, list):
        for value in schema:
            _url_or_empty_as_any_of(value)


FILE_IN_JSON = {
    "type": "string",
    "format": "uri",
    "nullable": True,
    "description": "In JSON: `null` clears the file; the URL this field was read with keeps "
    "it (any other string is a 400). Upload a new file with multipart/form-data.",
}


def _anchor_ends(schema):
    r"""`$` also matches before a final newline in Python's `re` (which generators such as
    hypothesis use); `(?!\n)` after it means the end, as `\Z` in our validators does."""
    if isinstance(schema, dict):
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and pattern.endswith("$"):
            schema["pattern"] = pattern + r"(?!\n)"
        for value in schema.values():
            _anchor_ends(value)
    elif isinstance(schema, list):
        for value in schema:
            _anchor_ends(value)


def _json_body_components(result):
    """Names of the components a JSON request body uses, nested ones included."""
    found, refs = set(), []
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            refs += [media["schema"]] if media else []
    while refs:
        schema = refs.pop()
        if isinstance(schema, dict):
            if ref := schema.get("$ref"):
                name = ref.rsplit("/", 1)[-1]
                if name not in found:
                    found.add(name)
                    refs.append(_components(result).get(name, {}))
            refs += list(schema.values())
        elif isinstance(schema, list):
            refs += schema
    return found


def describe_request_rules(result, generator, request, public):
    _url_or_empty_as_any_of(_components(result))
    in_json = _json_body_components(result)
    for name, component in _components(result).items():
        if not name.endswith("Request") or component.get("type") != "object":
            continue
        component.setdefault("additionalProperties", False)
        for key, prop in component.get("properties", {}).items():
            if prop.get("format") == "binary":
                if name in in_json:
                    component["properties"][key] = dict(FILE_IN_JSON)
                else:
                    prop.pop("nullable", None)  # a part holds a file; null clears in JSON
                continue
            _tighten(key.rsplit(".", 1)[-1], prop)
    _anchor_ends(result)
    if signup := _components(result).get("SignupRequest"):
        password = signup["properties"]["password"]
        password.update(minLength=8, description=PASSWORD_RULES, pattern=r"^[^\u0000]*\D")
    return result


# Response components whose keys depend on the stored object: error bodies, and those an app
# names with keep_response_keys_optional() (the appearance as stored).
OPTIONAL_RESPONSE_KEYS = {"Error": {"code"}}
SPARSE_RESPONSE_COMPONENTS = {"ValidationError"}


def keep_response_keys_optional(*names):
    """Leave these response components' `required` as their serializers declare it."""
    SPARSE_RESPONSE_COMPONENTS.update(names)


def require_response_fields(result, generator, request, public):
    components = _components(result)
    for name, component in components.items():
        if name.endswith("Request") or name in SPARSE_RESPONSE_COMPONENTS:
            continue
        if component.get("type") != "object" or not component.get("properties"):
            continue
        optional = OPTIONAL_RESPONSE_KEYS.get(name, set())
        component["required"] = sorted(set(component["properties"]) - optional)
    return result


def fix_operations(result, generator, request, public):
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if operation.get("security") in (None, [{}]):
                operation["security"] = []
            body = operation.get("requestBody")
            if body and body.get("required") and len(body.get("content", {})) > 1:
                body["required"] = False
                body["description"] = (
                    "Required: an empty body is a 400 naming the missing fields. (Declared "
                    "optional so that generated clients offering both content types import.)"
                )
    return result
