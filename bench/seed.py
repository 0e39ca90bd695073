"""Seed the bench database and measure SQL queries per request, in-process.

Run as `python -m bench.seed OUT_DIR` with the bench environment (bench/run.py does it). It
migrates, replaces the bench user's data with 1 user + 100 realistic characters, writes the
floor's body (the real retrieve response) and OUT_DIR/seed.json for the load phase.
"""

import json
import os
import sys
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oshara.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402
from characters.models import Character, HandoffTarget  # noqa: E402
from oshara.views import api_not_found  # noqa: E402
from tests.reference import SALES_AGENT  # noqa: E402

BENCH_EMAIL = "bench-user@bench.invalid"
SLUG_PREFIX = "bench-agent-"
CHARACTER_COUNT = 100
ORIGIN = "https://acme.com"
HOST = "127.0.0.1"

# The reference's "full character with tools and appearance" example, as published.
APPEARANCE = SALES_AGENT["widget_appearance"]

PROMPT_PARAGRAPHS = [
    "You are an enthusiastic sales assistant for Acme Inc. Help prospects understand our "
    "products and book demos. Speak in short, friendly sentences suited to a voice call.",
    "Acme sells three plans: Starter for small teams, Growth for companies scaling their "
    "support, and Enterprise with single sign-on, audit logs and a dedicated success manager.",
    "Always ask for the prospect's name, company and team size before recommending a plan. "
    "Never invent prices: when asked, say a specialist will send a tailored quote by e-mail.",
    "If the caller wants a demo, open the book-demo form and confirm the details back to "
    "them. If they have a technical problem, offer to hand off to the support agent.",
    "Do not discuss competitors by name, do not promise features that are not released, and "
    "keep personal data to what the form asks for. End the call politely when asked to.",
    "When the caller is unsure, summarise what you heard in one sentence and ask a single "
    "clarifying question. Keep answers under thirty seconds of speech.",
]


def system_prompt(index):
    """1-2 KB of instructions, different for every character."""
    paragraphs = [f"Character #{index}: you represent Acme's team number {index}."]
    paragraphs += PROMPT_PARAGRAPHS
    paragraphs += PROMPT_PARAGRAPHS[: index % 4]
    return "\n\n".join(paragraphs)


def seed():
    """Replace any earlier bench data with one user and CHARACTER_COUNT characters."""
    earlier = Character.objects.filter(slug__startswith=SLUG_PREFIX)
    # Each run generates a new Fernet key: clear the old ciphertext before the delete loads rows.
    earlier.update(llm_api_key=None)
    earlier.delete()
    User.objects.filter(email=BENCH_EMAIL).delete()
    user = User.objects.create_user(email=BENCH_EMAIL, password=None)
    characters = []
    for index in range(CHARACTER_COUNT):
        character = Character(
            owner=user,
            slug=f"{SLUG_PREFIX}{index:03d}",
            name=f"Acme Sales Assistant {index}",
            character_type="SUPPORT_AGENT",
            system_prompt=system_prompt(index),
            greeting="Hi there! I'm the Acme sales assistant. How can I help you today?",
            voice_url="https://cdn.acme.com/voices/sales-en.mp3",
            language="en",
            background_audio="office",
            allowed_origins=[ORIGIN, "https://www.acme.com"],
            widget_appearance=APPEARANCE,
            stt_model="whisper-en-large",
            tts_model="chatterbox-en-v1",
            llm_model="gpt-4o",
            llm_api_key=f"sk-bench-{index:03d}-0123456789abcdef0123456789abcdef",
        )
        character.full_clean(exclude=["owner"])
        character.save()
        characters.append(character)
    HandoffTarget.objects.bulk_create(
        HandoffTarget(source=source, target=target, position=p)
        for index, source in enumerate(characters)
        for p, target in enumerate(handoff_pair(characters, index))
    )
    return user, characters[CHARACTER_COUNT // 2]


def handoff_pair(characters, index):
    """The next two characters, wrapping around: every character has 2 handoff targets."""
    return [characters[(index + step) % len(characters)] for step in (1, 2)]


def route_exists(path):
    try:
        return resolve(path).func is not api_not_found
    except Resolver404:
        return False


def measure(client, path, headers, expect_items=None):
    """Warm once (caches, connections), then count the queries of a second request."""
    client.get(path, headers=headers)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"bench seed: GET {path} returned {response.status_code}")
    if expect_items is not None and len(response.json()) != expect_items:
        raise SystemExit(f"bench seed: GET {path} did not return {expect_items} items")
    return response, len(captured)


def main(out_dir):
    out_dir = Path(out_dir)
    call_command("migrate", interactive=False, verbosity=0)
    with transaction.atomic():
        user, character = seed()
    token = str(AccessToken.for_user(user))
    auth = {"Authorization": f"Bearer {token}"}
    client = Client(HTTP_HOST=HOST)
    retrieve_path = f"/api/ai-characters/{character.slug}/"
    appearance_path = f"/api/agents/{character.slug}/appearance/"

    response, retrieve_queries = measure(client, retrieve_path, auth)
    floor_body = out_dir / "floor-body.json"
    floor_body.write_bytes(response.content)
    targets = [
        {"name": "retrieve by slug (JWT)", "path": retrieve_path, "headers": auth},
        {"name": "list of 100 (JWT)", "path": "/api/ai-characters/", "headers": auth},
        {"name": "appearance (Origin)", "path": appearance_path, "headers": {"Origin": ORIGIN}},
    ]
    targets[0]["queries"] = retrieve_queries
    targets[1]["queries"] = measure(client, targets[1]["path"], auth, CHARACTER_COUNT)[1]
    if route_exists(appearance_path):
        targets[2]["queries"] = measure(client, appearance_path, targets[2]["headers"])[1]
    else:
        targets[2]["missing"] = "endpoint missing"
    info = {"floor_body": str(floor_body), "targets": targets}
    (out_dir / "seed.json").write_text(json.dumps(info, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
