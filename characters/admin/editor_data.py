"""The data side of the structured editors (characters/admin/editors.py).

django-jsonform draws every key its schema declares, so the data it is given must hold them
all (filled here with blanks, and each oneOf item with the keys of the choice it matches),
and it sends every key back. What it added is taken out again on submit (prune): a blank
("" / null / {} / []) is kept only where the stored value had that very blank. An explicit
blank that was not stored before is typed in the raw JSON view.
"""

BLANKS = ("", None, {}, [])


def resolve(schema, defs):
    while "$ref" in schema:
        schema = {**defs[schema["$ref"].rsplit("/", 1)[1]], **schema}
        schema.pop("$ref")
    return schema


def accepts(option, data, defs):
    """Whether a oneOf choice is the one `data` is: its keys known, its constants equal."""
    option = resolve(option, defs)
    if option.get("type") != "object" or not isinstance(data, dict):
        return option.get("type") == "string" and isinstance(data, str)
    properties = option.get("properties", {})
    if not set(data) <= set(properties):
        return False
    return all(
        "const" not in schema or data.get(name, schema["const"]) == schema["const"]
        for name, schema in properties.items()
    )


def choice(schema, data, defs):
    options = schema["oneOf"]
    return next((option for option in options if accepts(option, data, defs)), options[0])


def blank(schema, defs):
    schema = resolve(schema, defs)
    if "const" in schema:
        return schema["const"]
    if "oneOf" in schema:
        return blank(schema["oneOf"][0], defs)
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object":
        return fill({}, schema, defs)
    if kind == "array":
        return []
    return "" if kind == "string" else None


def fill(data, schema, defs):
    """`data` with every key the editor will draw, recursively."""
    schema = resolve(schema, defs)
    if "oneOf" in schema:
        return fill(data, choice(schema, data, defs), defs)
    if isinstance(data, list) and "items" in schema:
        return [fill(item, schema["items"], defs) for item in data]
    if not isinstance(data, dict) or "properties" not in schema:
        return data
    filled = {}
    for name, prop in schema["properties"].items():
        filled[name] = fill(data[name], prop, defs) if name in data else blank(prop, defs)
    return {**data, **filled}


MISSING = object()


def prune(data, stored=MISSING):
    """`data` less the blanks the editor added (those not in `stored` at the same place)."""
    if isinstance(data, dict):
        kept = {}
        for name, value in data.items():
            before = stored.get(name, MISSING) if isinstance(stored, dict) else MISSING
            value = prune(value, before)
            if not (value in BLANKS and value != before):
                kept[name] = value
        return kept
    if isinstance(data, list):
        before = stored if isinstance(stored, list) else []
        return [
            prune(item, before[index] if index < len(before) else MISSING)
            for index, item in enumerate(data)
        ]
    return data
