"""What several test files share: API clients, uploads, admin form payloads, secrets, a
subprocess runner, the documented tools example, and real documents built in memory.

Fixtures stay in conftest.py; tests import helpers from here, never from each other."""

import io
import math
import os
import secrets
import struct
import subprocess
import sys
import threading
import wave
import zipfile
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import docx
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.forms import FileField
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from characters.models import Character

ROOT = Path(__file__).resolve().parent.parent
HTTP_SECRET = "acme-shared-secret-4f9b2c"
MCP_SECRET = "Bearer mcp-token-7d1e88"


def words(count, start=1):
    """`count` distinct tokens, ten to a line: "w0001 w0002 ...". One word is one token."""
    tokens = [f"w{number:04d}" for number in range(start, start + count)]
    return "\n".join(" ".join(tokens[i : i + 10]) for i in range(0, count, 10))


def make_pdf(pages):
    """A minimal valid PDF: one page per list of text lines, in Helvetica."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        None,  # the page tree, written once the pages are known
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    page_numbers = []
    for lines in pages:
        operations = ["BT", "/F1 10 Tf", "12 TL", "40 760 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            operations.append(f"({escaped}) Tj T*")
        operations.append("ET")
        stream = "\n".join(operations).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % len(objects)
        )
        page_numbers.append(len(objects))
    kids = b" ".join(b"%d 0 R" % number for number in page_numbers)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_numbers))

    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_offset = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_offset,
    )
    return bytes(out)


def make_docx(paragraphs, table_rows=()):
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table_rows:
        table = document.add_table(rows=len(table_rows), cols=len(table_rows[0]))
        for row, values in zip(table.rows, table_rows, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def upload(name, content, content_type="application/octet-stream"):
    if isinstance(content, str):
        content = content.encode()
    return SimpleUploadedFile(name, content, content_type=content_type)


PASSWORD = "correct-horse-battery-staple-42"


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def png_upload(name="face.png", size=(8, 8), colour="red"):
    """A real, small PNG image as a multipart upload."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def wav_upload(name="voice.wav"):
    """A real, short WAV file as a multipart upload."""
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * 800)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="audio/wav")


def stored_files(root):
    """Every file under MEDIA_ROOT, relative to it."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def change_url(character):
    return reverse("admin:characters_character_change", args=[character.pk])


def form_payload(response):
    """The POST body the change form would send back unchanged (files left out = kept)."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field, FileField):
                continue
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(item) for item in value]
            else:
                data[key] = "" if value is None else str(value)
    return data


def handoff_payload(admin_client, character, targets):
    """The change form with its handoff inline replaced by `targets` (character or None)."""
    payload = form_payload(admin_client.get(change_url(character)))
    initial = int(payload["handoff_links-INITIAL_FORMS"])
    for index in range(initial):
        payload[f"handoff_links-{index}-DELETE"] = "on"
    for offset, target in enumerate(targets):
        index = initial + offset
        payload[f"handoff_links-{index}-target"] = str(target.pk)
        payload[f"handoff_links-{index}-position"] = ""
    payload["handoff_links-TOTAL_FORMS"] = str(initial + len(targets))
    return payload


def new_secret():
    """A distinctive plaintext, so "not in the output" means something."""
    return f"sk-test-{secrets.token_hex(16)}"


def raw_column(character, column="llm_api_key"):
    """An encrypted column exactly as the database holds it."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(Character._meta.db_table)} "
            f"WHERE {quote('id')} = %s",
            [character.pk],
        )
        return cursor.fetchone()[0]


SETUP = "import django; django.setup(); print('started')"


def local_port(offset):
    """A port for a server a test starts on 127.0.0.1: TEST_PORT_BASE (8230) + `offset`, two
    apart per pytest-xdist process so parallel processes never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return int(os.environ.get("TEST_PORT_BASE", "8230")) + 2 * int(worker or 0) + offset


def run_python(code, **env_overrides):
    """Run `code` in a fresh process on the project's settings, with DEBUG on as `make run`
    has it unless an override says otherwise (None removes a variable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FERNET"))}
    env["DJANGO_SETTINGS_MODULE"] = "oshara.settings"
    env["DJANGO_DEBUG"] = "true"
    env.update(env_overrides)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


DOCUMENTED_EXAMPLE = {
    "tools": [
        {
            "name": "check_order_status",
            "kind": "http",
            "description": "Look up the status of an order by its number.",
            "input_schema": {
                "type": "object",
                "properties": {"order_id": {"type": "string", "description": "Order number"}},
                "required": ["order_id"],
            },
            "config": {
                "url": "https://api.acme.com/orders/status",
                "method": "POST",
                "headers": {"X-Oshara-Secret": HTTP_SECRET},
            },
        },
        {
            "name": "search_help_centre",
            "kind": "mcp",
            "description": "Search Acme's help centre.",
            "input_schema": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
            "config": {"server_name": "acme-help", "tool_name": "search"},
        },
    ],
    "mcp_servers": [
        {
            "name": "acme-help",
            "url": "https://mcp.acme.com/mcp",
            "transport": "streamable_http",
            "headers": {"Authorization": MCP_SECRET},
            "timeout_seconds": 12,
            "is_active": True,
        }
    ],
}


REQUIRED = ["This field is required."]


def item(errors, index):
    """An entry of a list's errors, whichever shape DRF gives them (list, or dict by index)."""
    return errors[index] if isinstance(errors, list) else errors[str(index)]


# -- a real task worker beside the test process ---------------------------------------------

DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"


def database_url(settings_dict):
    """A DATABASE_URL naming the test database this process is using."""
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict["USER"] or "", safe="")
    password = quote(settings_dict["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict["HOST"] or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{credentials}{host}{port}/{settings_dict['NAME']}"


# -- calls: the widget starting a session, the voice worker ----------------------------------

LIVEKIT_TEST_SECRET = "test-livekit-secret-0123456789abcdef0123456789"
AGENT_WORKER_TEST_KEY = "worker-key-0123456789abcdef0123456789abcdef"
WIDGET_ORIGIN = "https://shop.example.com"


def start_call(client, agent="shop-helper", origin=WIDGET_ORIGIN, **body):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    return client.post("/api/agents/agent-session/", {"agent": agent, **body}, **headers)


def worker_client():
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=AGENT_WORKER_TEST_KEY)
    return client


# -- form responses: the reference's sales-agent and its "book-demo" form --------------------

ACME_ORIGIN = "https://acme.com"


def form_responses_url(slug="sales-agent"):
    return f"/api/agents/{slug}/form-responses/"


def submit_form(client, body, slug="sales-agent", origin=ACME_ORIGIN, **headers):
    if origin:
        headers["HTTP_ORIGIN"] = origin
    return client.post(form_responses_url(slug), body, format="json", **headers)


# -- real threads ----------------------------------------------------------------------------

OUTCOMES = {}  # race name -> counts of status codes, printed with -s


def run_concurrently(requests):
    """Start every request at the same moment; return their responses in order."""
    barrier = threading.Barrier(len(requests))
    responses = [None] * len(requests)
    errors = []

    def worker(index, request):
        try:
            barrier.wait()
            responses[index] = request()
        except Exception as exc:  # surfaced below, with the thread's traceback lost otherwise
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return responses


def record(name, responses):
    counts = Counter(response.status_code for response in responses)
    OUTCOMES[name] = dict(sorted(counts.items()))
    print(f"\n{name}: {OUTCOMES[name]}")
    assert 500 not in counts
    return counts


# -- calls: a character with every secret, as the worker sees it -------------------------------

CALL_LLM_KEY = "sk-live-llm-key-abcdef0123456789"
CALL_TOOL_SECRET = "Bearer tool-secret-987654321"
CALL_MCP_SECRET = "mcp-secret-24680"
CALL_SESSION_SECRET = "session-mcp-secret-13579"


def full_character(auth_client, slug="full-bot"):
    auth_client.post("/api/ai-characters/", {"slug": "sales-bot", "name": "Sales Bot"})
    body = {
        "slug": slug,
        "name": "Full Bot",
        "system_prompt": "Stored prompt.",
        "greeting": "Stored greeting.",
        "language": "en",
        "background_audio": "cafe",
        "stt_model": "nova-3",
        "tts_model": "aura-2",
        "llm_model": "gpt-4o",
        "llm_api_key": CALL_LLM_KEY,
        "voice": {"voice_url": "https://voices.example.com/v1.wav"},
        "allowed_origins": [WIDGET_ORIGIN],
        "handoff_targets": [{"slug": "sales-bot"}],
        "mcp_servers": [
            {
                "name": "crm",
                "url": "https://mcp.example.com/mcp",
                "headers": {"Authorization": CALL_MCP_SECRET, "X-Tenant": "acme"},
            },
            {"name": "old", "url": "https://old.example.com/mcp", "is_active": False},
        ],
        "tools": [
            {
                "name": "lookup_order",
                "kind": "http",
                "config": {
                    "url": "https://api.example.com/orders",
                    "headers": {"Authorization": CALL_TOOL_SECRET},
                },
            },
            {
                "name": "crm_find",
                "kind": "mcp",
                "config": {"server_name": "crm", "tool_name": "find"},
            },
            {"name": "old_find", "kind": "mcp", "config": {"server_name": "old", "tool_name": "f"}},
        ],
        "widget_appearance": {
            "max_call_seconds": 600,
            "forms": [
                {
                    "id": "lead-form",
                    "title": "Leave your details",
                    "fields": [
                        {"name": "email", "type": "email", "required": True},
                        {"name": "size", "type": "select", "options": ["S", "M"]},
                        {"name": "newsletter", "type": "checkbox"},
                    ],
                },
                {"id": "off-form", "title": "Off", "disabled": True, "fields": [{"name": "x"}]},
            ],
        },
    }
    response = auth_client.post("/api/ai-characters/", body)
    assert response.status_code == 201, response.content
    return slug


def started(client, agent, **overrides):
    response = start_call(client, agent=agent, **overrides)
    assert response.status_code == 200, response.content
    return response.json()["session_id"]


def runtime_url(session_id):
    return f"/api/agents/sessions/{session_id}/runtime/"


def report_url(session_id):
    return f"/api/agents/sessions/{session_id}/report/"


# -- uploads of every kind ---------------------------------------------------------------------


def image_file(fmt="PNG", size=(8, 8), name=None, mode="RGB"):
    buffer = io.BytesIO()
    Image.new(mode, size, "red" if mode == "RGB" else 0).save(buffer, fmt)
    extension = {"JPEG": "jpg"}.get(fmt, fmt.lower())
    return SimpleUploadedFile(name or f"avatar.{extension}", buffer.getvalue())


def wav_file(name="voice.wav", seconds=0.2):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        frames = int(8000 * seconds)
        wav.writeframes(
            b"".join(struct.pack("<h", int(8000 * math.sin(i / 10))) for i in range(frames))
        )
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="audio/wav")


def send_files(client, slug, method="patch", **files):
    """A multipart write of files to a character (PATCH unless told)."""
    return getattr(client, method)(f"/api/ai-characters/{slug}/", files, format="multipart")


# -- a Redis cache of the test's own ----------------------------------------------------------

REDIS_TEST_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/3"


def use_redis_cache(settings, backend="django.core.cache.backends.redis.RedisCache"):
    """Django's default cache on Redis (REDIS_URL, else the local db 3) in a namespace of the
    test's own, instead of flushing a database others may use."""
    import pytest
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": backend,
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": f"test-{secrets.token_hex(8)}",
        }
    }
    try:
        cache.set("probe", 1)
    except Exception:
        if "REDIS_URL" in os.environ:
            raise  # CI names its Redis: not reaching it is a failure
        pytest.skip(f"no Redis server at {REDIS_TEST_URL} (set REDIS_URL to run these cases)")
    assert cache.get("probe") == 1
