"""Tool integrations (`tools`, `mcp_servers`): the model-level rules and the cross-field ones.

Shared by the API serializers and the model (so by the admin). Header values are
credentials: masked as characters/schemas/masking.py says.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from characters.schemas.masking import (
    MASK,
    keep_masked_headers,
    server_headers,
    server_url,
    tool_headers,
    tool_url,
)
from characters.schemas.tools import McpServerSerializer, ToolSerializer
from characters.validators import flatten_errors


def duplicate_name_errors(items, what):
    """One dict per item: {"name": [message]} on every repeat of an earlier name."""
    seen, errors = set(), []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        errors.append(
            {"name": [f'Another {what} already has the name "{name}".']} if name in seen else {}
        )
        seen.add(name)
    return errors


def form_tool_names(widget_appearance):
    """{tool name: (form index, form id)} for the forms, whose ids become tool names."""
    forms = widget_appearance.get("forms") if isinstance(widget_appearance, dict) else None
    names = {}
    for index, form in enumerate(forms if isinstance(forms, list) else []):
        form_id = form.get("id") if isinstance(form, dict) else None
        if isinstance(form_id, str):
            names.setdefault(form_id.replace("-", "_"), (index, form_id))
    return names


@dataclass(frozen=True)
class MissingServer:
    tool_index: int
    tool_name: str
    server_name: str


@dataclass(frozen=True)
class FormCollision:
    tool_index: int
    tool_name: str
    form_index: int
    form_id: str


def reference_problems(tools, mcp_servers, widget_appearance):
    """Tools naming an absent MCP server, and tools whose name a form's tool already uses."""
    server_names = {server.get("name") for server in mcp_servers}
    form_tools = form_tool_names(widget_appearance)
    problems = []
    for index, tool in enumerate(tools):
        name = tool.get("name")
        if name in form_tools:
            problems.append(FormCollision(index, name, *form_tools[name]))
        if tool.get("kind") == "mcp":
            server_name = tool.get("config", {}).get("server_name")
            if server_name not in server_names:
                problems.append(MissingServer(index, name, server_name))
    return problems


def missing_server_message(problem):
    return f'No MCP server named "{problem.server_name}" in this character\'s mcp_servers.'


def server_in_use_message(problem):
    return (
        f'The MCP server "{problem.server_name}" is still used by the tool "{problem.tool_name}": '
        "remove or change that tool first."
    )


def tool_collision_message(problem):
    return (
        f'The form "{problem.form_id}" already provides a tool named "{problem.tool_name}" '
        "(form ids become tool names, hyphens turned into underscores)."
    )


def form_collision_message(problem):
    return (
        f'This form id becomes the tool name "{problem.tool_name}", which the tool '
        f"tools[{problem.tool_index}] already uses."
    )


def validate_tools(value):
    """The model-level rule for the list: its structure and unique names."""
    _validate_list(value, ToolSerializer, "tool")


def validate_mcp_servers(value):
    _validate_list(value, McpServerSerializer, "MCP server")


def _validate_list(value, serializer_class, what):
    serializer = serializer_class(data=value, many=True)
    if not serializer.is_valid():
        raise ValidationError(flatten_errors(serializer.errors), code="invalid")
    messages = flatten_errors(duplicate_name_errors(value, what))
    if messages:
        raise ValidationError(messages, code="invalid")


def normalized(value, serializer_class):
    """The validated list with its defaults filled in, or None when it is not valid."""
    serializer = serializer_class(data=value, many=True)
    return serializer.validated_data if serializer.is_valid() else None


def clean_tool_integrations(character):
    """Model.clean() part: keep masked secrets, fill in defaults, check references.

    Forms (the admin) show header values masked, so what they send back holds MASK where
    the stored value is to be kept; it is swapped back here, against the saved row.
    """
    errors = _keep_masked_headers_of_saved_row(character)
    tools = normalized(character.tools, ToolSerializer)
    servers = normalized(character.mcp_servers, McpServerSerializer)
    if tools is not None and servers is not None:
        character.tools, character.mcp_servers = tools, servers
        for problem in reference_problems(tools, servers, character.widget_appearance):
            if isinstance(problem, MissingServer):
                message = f"{problem.tool_index}.config.server_name: " + missing_server_message(
                    problem
                )
            else:
                message = f"{problem.tool_index}.name: {tool_collision_message(problem)}"
            errors.setdefault("tools", []).append(message)
    # Otherwise clean_fields() reports what is wrong with the lists.
    if errors:
        raise ValidationError(errors)


HEADERS = {
    "tools": (tool_headers, tool_url, "config.headers"),
    "mcp_servers": (server_headers, server_url, "headers"),
}


def _keep_masked_headers_of_saved_row(character):
    errors = {}
    for field_name, (headers_of, url_of, path) in HEADERS.items():
        items = getattr(character, field_name)
        if not isinstance(items, list) or not any(
            MASK in headers_of(item).values() for item in items
        ):
            continue
        stored = []
        if character.pk:
            saved = type(character).objects.filter(pk=character.pk)
            stored = saved.values_list(field_name, flat=True).first() or []
        messages = [
            f"{index}.{path}.{name}: {message}"
            for index, item_errors in enumerate(
                keep_masked_headers(items, stored, headers_of, url_of)
            )
            for name, message in item_errors.items()
        ]
        if messages:
            errors[field_name] = messages
    return errors
