"""Header values of tools and MCP servers are credentials: shown only as MASK, and MASK sent
back means "keep the stored value". Shared by the tools schema, the model fields and the API."""

import copy

MASK = "********"


def tool_headers(tool):
    """The headers dict of an http tool (the same object, so it can be updated in place)."""
    config = tool.get("config") if isinstance(tool, dict) else None
    headers = config.get("headers") if isinstance(config, dict) else None
    return headers if isinstance(headers, dict) else {}


def server_headers(server):
    headers = server.get("headers") if isinstance(server, dict) else None
    return headers if isinstance(headers, dict) else {}


def mask_headers(items, headers_of):
    """A deep copy of the items with every header value replaced by MASK."""
    masked = copy.deepcopy(items)
    for item in masked if isinstance(masked, list) else []:
        headers = headers_of(item)
        for name in headers:
            headers[name] = MASK
    return masked


def keep_masked_headers(items, stored_items, headers_of):
    """Replace each MASK by the stored value of that header on the stored item of that name.

    Updates `items` in place. Returns one dict per item, {header name: message}, for masks
    that have no stored value to keep (empty dicts when all is well).
    """
    stored = {item.get("name"): headers_of(item) for item in stored_items if isinstance(item, dict)}
    errors = []
    for item in items:
        if not isinstance(item, dict):
            errors.append({})
            continue
        old = stored.get(item.get("name"), {})
        old_by_lower = {name.lower(): value for name, value in old.items()}
        headers, item_errors = headers_of(item), {}
        for name, value in headers.items():
            if value != MASK:
                continue
            if name in old or name.lower() in old_by_lower:
                headers[name] = old.get(name, old_by_lower.get(name.lower()))
            else:
                item_errors[name] = (
                    f'"{MASK}" keeps a stored value, but this header has none yet: '
                    "send its real value."
                )
        errors.append(item_errors)
    return errors
