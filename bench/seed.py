"""Seed the bench database and measure SQL queries per request, in-process.

Run as `python -m bench.seed OUT_DIR [TABLE]` with the bench environment (bench/run.py does it). It
migrates, replaces the bench user's data with 1 user + 100 realistic characters, renders every
path of bench/paths.py and counts its queries, writes the floors' bodies (the real retrieve and
appearance responses) and OUT_DIR/seed.json for the load phase.
"""

import itertools
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
from bench.paths import TABLES  # noqa: E402
from characters import services  # noqa: E402
from characters.models import Character, HandoffTarget  # noqa: E402
from oshara.views import api_not_found  # noqa: E402
from tests.reference import SALES_AGENT  # noqa: E402

BENCH_EMAIL = "bench-user@bench.invalid"
SLUG_PREFIX = "bench-agent-"
CHARACTER_COUNT = 100
ORIGIN = "https://acme.com"
HOST = "127.0.0.1"
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")

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
    earlier = Character._base_manager.filter(slug__startswith=SLUG_PREFIX)
    # Each run generates a new Fernet key: clear the old ciphertext before the delete loads rows
    # (in one UPDATE through the base manager: rows that no key decrypts cannot be loaded to
    # take the change path, and nothing serves them).
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
        # Through the service, as the API creates one: version 1 recorded with its event.
        services.character_create(character)
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
        return resolve(path.split("?")[0]).func is not api_not_found
    except Resolver404:
        return False


_unique = itertools.count(1)


def unique(body):
    """`body` with its "{unique}" a value no other request sends (bench/report.lua does the
    same under wrk): a PATCH that changes something every time."""
    return (body or "").replace("{unique}", f"seed-{next(_unique)}")


def measure(client, method, path, headers, body=None, status=200, expect_items=None):
    """Warm once (caches, connections), then count the queries of a second request."""

    def send():
        return client.generic(
            method, path, data=unique(body), content_type="application/json", headers=headers
        )

    send()
    with CaptureQueriesContext(connection) as captured:
        response = send()
    if response.status_code != status:
        raise SystemExit(f"bench seed: {method} {path} returned {response.status_code}")
    if expect_items is not None and len(response.json()) != expect_items:
        raise SystemExit(f"bench seed: {method} {path} did not return {expect_items} items")
    return response, len([query for query in captured if not is_control(query["sql"])])


def is_control(sql):
    """Transaction control (a write's BEGIN and COMMIT, savepoints): not counted as SQL."""
    return sql.lstrip().upper().startswith(TRANSACTION_CONTROL)


def bench_context(user, character):
    """The placeholders the paths' URLs, headers and bodies use (see bench/paths.py)."""
    return {
        "email": user.email,
        "token": str(AccessToken.for_user(user)),
        "slug": character.slug,
        "origin": ORIGIN,
        "character_count": CHARACTER_COUNT,
        "deep_offset": CHARACTER_COUNT - 20,
        "slugs": [f"{SLUG_PREFIX}{index:03d}" for index in range(CHARACTER_COUNT)],
    }


def prepare_targets(out_dir, context, paths):
    """Each path rendered and its SQL counted in-process; the floors' bodies written."""
    client = Client(HTTP_HOST=HOST)
    auth = {"Authorization": f"Bearer {context['token']}"}
    retrieve, _ = measure(client, "GET", f"/api/ai-characters/{context['slug']}/", auth)
    bodies = {"retrieve": retrieve.content, "appearance": retrieve.content}
    appearance_path = f"/api/agents/{context['slug']}/appearance/"
    if route_exists(appearance_path):
        bodies["appearance"] = client.get(appearance_path, headers={"Origin": ORIGIN}).content
    for name, content in bodies.items():
        (out_dir / f"floor-{name}.json").write_bytes(content)
    targets = []
    for bench_path in paths:
        if bench_path.prepare is not None:
            context.update(bench_path.prepare(context))
        url, headers, body = bench_path.render(context)
        target = {"name": bench_path.name, "method": bench_path.method, "path": url}
        target.update(headers=headers, body=body, server=bench_path.server)
        target.update(urls=bench_path.urls(context))
        if not route_exists(url):
            target["missing"] = "endpoint missing"
        else:
            items = context[bench_path.expect_items] if bench_path.expect_items else None
            _, target["queries"] = measure(
                client, bench_path.method, url, headers, body, bench_path.status, items
            )
            if bench_path.explain is not None:
                target["explain"] = bench_path.explain(context)
        targets.append(target)
    return {
        "floor_body": str(out_dir / "floor-retrieve.json"),
        "floor_appearance_body": str(out_dir / "floor-appearance.json"),
        "slug": context["slug"],
        "context": context,
        "targets": targets,
    }


def main(out_dir, table="default"):
    out_dir = Path(out_dir)
    call_command("migrate", interactive=False, verbosity=0)
    with transaction.atomic():
        user, character = seed()
    info = prepare_targets(out_dir, bench_context(user, character), TABLES[table])
    (out_dir / "seed.json").write_text(json.dumps(info, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:])
