"""The voice worker's view of a session: the effective configuration, secrets included.

This and the LiveKit token are the only places a stored secret leaves the service. Each key
of the body is one line of `build_runtime`, so a new character field is one line here.
"""

from django.urls import reverse

from calls.form_values import form_fields
from characters.schemas.form_fields import option_value
from characters.schemas.integrations import form_tool_names
from characters.selectors import character_at
from characters.widget.defaults import merged_appearance
from knowledge import session_keys

FIELD_TYPES = {"number": "number", "checkbox": "boolean"}


def build_runtime(session, request):
    # The version the session started on: a publish during the call does not change it.
    character = character_at(session.character, session.version)
    overrides = session.overrides
    appearance = merged_appearance(character.widget_appearance)
    servers = mcp_servers(character.mcp_servers, session.mcp_headers)
    kb = kb_query(character, session, request)
    return {
        "session_id": session.id,
        "character_slug": character.slug,
        "character_name": character.name,
        "room_name": session.room_name,
        "participant_identity": session.participant_identity,
        "system_prompt": overrides.get("system_prompt", character.system_prompt),
        "greeting": overrides.get("greeting", character.greeting),
        "language": overrides.get("language", character.language),
        "llm_provider": character.llm_provider,
        "llm_model": character.llm_model,
        "llm_api_key": character.llm_api_key or "",
        "stt_model": character.stt_model,
        "tts_model": character.tts_model,
        "voice_model": overrides.get("voice_model", ""),
        "voice": voice(character, overrides, request),
        "background_audio": character.background_audio,
        "tools": tools(character.tools, servers, {**kb, "slug": character.slug}),
        "mcp_servers": servers,
        "kb_query_url": kb["url"],
        "kb_query_api_key": kb["api_key"],
        "handoff_targets": [
            {"slug": target.slug, "name": target.name}
            for target in character.ordered_handoff_targets
            if target.is_active
        ],
        "forms": form_tools(character.widget_appearance, appearance["forms"]),
        "max_call_seconds": appearance["max_call_seconds"],
        "metadata": session.metadata,
        "origin_url": session.origin_url,
    }


def voice(character, overrides, request):
    audio_file = (
        request.build_absolute_uri(character.voice_audio_file.url)
        if character.voice_audio_file
        else None
    )
    reference = overrides.get("reference_audio_url") or audio_file or character.voice_url
    return {
        "audio_file": audio_file,
        "voice_url": character.voice_url,
        "reference_audio_url": reference,
    }


def mcp_servers(stored, session_headers):
    """Active servers with their real headers; the session's headers win on a name clash."""
    servers = []
    for server in stored:
        if not server.get("is_active", True):
            continue
        session_names = {name.lower() for name in session_headers}
        headers = {
            k: v for k, v in server.get("headers", {}).items() if k.lower() not in session_names
        }
        servers.append({**server, "headers": {**headers, **session_headers}})
    return servers


def kb_query(character, session, request):
    """Where the character's `kb` tools search: its own URL and key, or (kb_query_url empty)
    this service's query endpoint with the session's search key (that character only)."""
    if character.kb_query_url:
        return {"url": character.kb_query_url, "api_key": character.kb_query_api_key or ""}
    return {
        "url": request.build_absolute_uri(reverse("knowledge-query")),
        "api_key": session_keys.key_for(session.id),
    }


def tools(stored, servers, kb_config):
    """The stored tools with real header values; MCP tools of inactive servers left out; a
    `kb` tool is told where to search (URL, X-API-Key and the character's slug)."""
    active = {server["name"] for server in servers}
    runnable = []
    for tool in stored:
        if tool.get("kind") == "mcp" and tool.get("config", {}).get("server_name") not in active:
            continue
        if tool.get("kind") == "kb":
            tool = {**tool, "config": kb_config}
        runnable.append(tool)
    return runnable


def form_tools(stored_appearance, forms):
    """Each enabled form as a tool the LLM can call, named after its id (see integrations)."""
    return [
        {
            "name": name,
            "form_id": form_id,
            "description": forms[index].get("subtitle") or forms[index]["title"],
            "input_schema": form_input_schema(forms[index]),
            "form": forms[index],
        }
        for name, (index, form_id) in form_tool_names(stored_appearance).items()
        if not forms[index].get("disabled")
    ]


def form_input_schema(form):
    fields = form_fields(form)
    properties = {}
    for field in fields:
        schema = {"type": FIELD_TYPES.get(field["type"], "string")}
        if field.get("options"):
            choices = {"type": "string", "enum": [option_value(o) for o in field["options"]]}
            schema = {"type": "array", "items": choices} if field["type"] == "checkbox" else choices
        if field.get("label"):
            schema["description"] = field["label"]
        properties[field["name"]] = schema
    required = [field["name"] for field in fields if field.get("required")]
    return {"type": "object", "properties": properties, "required": required}
