"""Header values of tools and MCP servers are credentials: shown only as MASK, and MASK sent
back means "keep the stored value". Shared by the tools schema, the model fields and the API."""

import copy
from urllib.parse import urlsplit

MASK = "********"
DEFAULT_PORTS = {"http": 80, "https": 443}


def tool_headers(tool):
    """The headers dict of an http tool (the same object, so it can be updated in place)."""
    config = tool.get("config") if isinstance(tool, dict) else None
    headers = config.get("headers") if isinstance(config, dict) else None
    return headers if isinstance(headers, dict) else {}


def server_headers(server):
    headers = server.get("headers") if isinstance(server, dict) else None
    return headers if isinstance(headers, dict) else {}


def tool_url(tool):
    config = tool.get("config") if isinstance(tool, dict) else None
    return config.get("url") if isinstance(config, dict) else None


def server_url(server):
    return server.get("url") if isinstance(server, dict) else None


def url_host(url):
    """(scheme, host, port) of a URL: where a credential sent to it goes. Any URL that
    cannot be read counts as a host of its own (None), so a mask never follows it."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        return scheme, parts.hostname, parts.port or DEFAULT_PORTS.get(scheme)
    except (TypeError, ValueError, AttributeError):
        return None


def mask_headers(items, headers_of):
    """A deep copy of the items with every header value replaced by MASK."""
    masked = copy.deepcopy(items)
    for item in masked if isinstance(masked, list) else []:
        headers = headers_of(item)
        for name in headers:
            headers[name] = MASK
    return masked


MOVED_HOST = (
    f'"{MASK}" keeps a stored value only for the host it was entered for, and the URL now '
    "points to another scheme, host or port: send this header's value again."
)


def keep_masked_headers(items, stored_items, headers_of, url_of):
    """Replace each MASK by the stored value of that header on the stored item of that name,
    as long as the item's URL keeps its scheme, host and port (a secret never follows a URL
    to a host the owner did not enter it for).

    Updates `items` in place. Returns one dict per item, {header name: message}, for masks
    that have no stored value to keep (empty dicts when all is well).
    """
    stored = {item.get("name"): item for item in stored_items if isinstance(item, dict)}
    errors = []
    for item in items:
        if not isinstance(item, dict):
            errors.append({})
            continue
        stored_item = stored.get(item.get("name"))
        old = headers_of(stored_item)
        old_by_lower = {name.lower(): value for name, value in old.items()}
        moved = stored_item is not None and url_host(url_of(item)) != url_host(url_of(stored_item))
        headers, item_errors = headers_of(item), {}
        for name, value in headers.items():
            if value != MASK:
                continue
            if moved and (name in old or name.lower() in old_by_lower):
                item_errors[name] = MOVED_HOST
            elif name in old or name.lower() in old_by_lower:
                headers[name] = old.get(name, old_by_lower.get(name.lower()))
            else:
                item_errors[name] = (
                    f'"{MASK}" keeps a stored value, but this header has none yet: '
                    "send its real value."
                )
        errors.append(item_errors)
    return errors
