"""Bulk data for `make bench-scale`, and the EXPLAIN plans of the read queries.

`python -m bench.scale_seed seed OUT_DIR` (after bench.seed has seeded the 100-character bench
user) adds, with bulk_create in batches: users up to --users in all; the bench user's
characters up to --owner-characters; a "memory" user with --memory-characters characters whose
system prompts are --prompt-kb KB each; and the other users' characters up to --characters in
all. It writes OUT_DIR/scale.json (tokens and slug prefix for the load phase).

`python -m bench.scale_seed explain` prints EXPLAIN (ANALYZE, BUFFERS) of the read cache's key
queries (one character by slug; a list page at offset 0 and 5,000) and of the list's fallback
ORM query, for the bench user.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oshara.settings")
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.organizations.services import create_personal_organization  # noqa: E402
from bench import seed  # noqa: E402
from characters.api import positions, versions  # noqa: E402
from characters.models import Character  # noqa: E402
from characters.selectors import characters_for_reading  # noqa: E402

BATCH = 2000
MEMORY_EMAIL = "bench-memory@bench.invalid"
MEMORY_PREFIX = "bench-memory-"
USER_EMAIL = "bench-scale-{index:04d}@bench.invalid"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["seed", "explain"])
    parser.add_argument("out_dir", nargs="?", default=".")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--characters", type=int, default=100_000)
    parser.add_argument("--owner-characters", type=int, default=10_000)
    parser.add_argument("--memory-characters", type=int, default=20_000)
    parser.add_argument("--prompt-kb", type=int, default=16)
    return parser.parse_args(argv)


def template():
    """A validated character like the bench's; bulk rows are copies of its field values."""
    bench_user = User.objects.get(email=seed.BENCH_EMAIL)
    return Character.objects.filter(owner=bench_user).order_by("id").first()


FIELDS = [
    "name",
    "character_type",
    "greeting",
    "voice_url",
    "language",
    "background_audio",
    "allowed_origins",
    "widget_appearance",
    "stt_model",
    "tts_model",
    "llm_model",
    "llm_api_key",
]


def characters(owner, prefix, count, model, prompt):
    values = {name: getattr(model, name) for name in FIELDS}
    for index in range(count):
        yield Character(
            owner=owner,
            organization_id=owner.default_organization_id,
            slug=f"{prefix}{index:05d}",
            system_prompt=prompt(index),
            **values,
        )


def bulk(objects, model=Character):
    batch = []
    for obj in objects:
        batch.append(obj)
        if len(batch) == BATCH:
            model.objects.bulk_create(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch)


def large_prompt(kb):
    """About `kb` KB of instructions, different for every character."""

    def prompt(index):
        text = seed.system_prompt(index)
        return (text + "\n\n") * (kb * 1024 // (len(text) + 2)) + f"(#{index})"

    return prompt


def seed_scale(args, out_dir):
    model = template()
    bench_user = model.owner
    unusable = make_password(None)
    others = [
        User(email=USER_EMAIL.format(index=index), password=unusable)
        for index in range(args.users - 2)
    ]
    bulk(others, User)
    memory_user = User.objects.create_user(email=MEMORY_EMAIL, password=None)
    others = list(User.objects.filter(email__startswith="bench-scale-").order_by("id"))
    for user in others:  # bulk_create sends no signal: each gets its personal organization
        create_personal_organization(user)
    already = Character.objects.filter(owner=bench_user).count()
    owner_extra = args.owner_characters - already
    bulk(characters(bench_user, "bench-owner-", owner_extra, model, seed.system_prompt))
    bulk(
        characters(
            memory_user, MEMORY_PREFIX, args.memory_characters, model, large_prompt(args.prompt_kb)
        )
    )
    rest = args.characters - args.owner_characters - args.memory_characters
    per_user, remainder = divmod(rest, len(others))
    for position, user in enumerate(others):
        count = per_user + (position < remainder)
        bulk(characters(user, f"bench-u{position:04d}-", count, model, seed.system_prompt))
    info = {
        "token": str(AccessToken.for_user(bench_user)),
        "memory_token": str(AccessToken.for_user(memory_user)),
        "memory_prefix": MEMORY_PREFIX,
        "memory_characters": args.memory_characters,
        "users": User.objects.count(),
        "characters": Character.objects.count(),
        "owner_characters": Character.objects.filter(owner=bench_user).count(),
    }
    (out_dir / "scale.json").write_text(json.dumps(info))
    return info


def explain(sql, params):
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else ""
    prefix = prefix or "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return "\n".join("  " + " | ".join(str(c) for c in row) for row in cursor.fetchall())


def explain_all():
    user = User.objects.get(email=seed.BENCH_EMAIL)
    slug = f"{seed.SLUG_PREFIX}{seed.CHARACTER_COUNT // 2:03d}"
    # The token user's default organization, as a JWT read without X-Organization.
    reader = {versions.USER: user.pk}
    one = versions.one_statement(versions.DEFAULT)
    plans = {
        "read-cache key, one character (retrieve)": (
            one.sql,
            one.bind({**reader, versions.SLUG: slug}),
        ),
    }
    for offset in (0, 5000):
        page = versions.page_statement(versions.DEFAULT, False, 20, offset)
        plans[f"read-cache keys, list limit=20 offset={offset}"] = (page.sql, page.bind(reader))
    own = Character.objects.filter(organization_id=user.default_organization_id)
    anchor = own.order_by(*versions.NEWEST_FIRST)[5000].pk
    anchored = versions.anchored_page_statement(versions.DEFAULT, False, 20, 0)
    plans["read-cache keys, list limit=20 offset=5000 from its cached anchor (positions.py)"] = (
        anchored.sql,
        anchored.bind({**reader, versions.ANCHOR: anchor}),
    )
    queryset = characters_for_reading().filter(organization_id=user.default_organization_id)
    queryset = queryset.without_api_key()[5000:5020]
    fallback, params = queryset.query.sql_with_params()
    plans["ORM list query (fallback), offset=5000"] = (fallback, list(params))
    for name, (statement, params) in plans.items():
        print(f"--- {name}")
        print(explain(statement, params))


def main(argv):
    args = parse_args(argv)
    if args.command == "explain":
        explain_all()
        return
    started = time.monotonic()
    with transaction.atomic():
        info = seed_scale(args, Path(args.out_dir))
    # Bulk inserts send no signals: rebuild the owners' list positions as saves would.
    for owner_id in User.objects.values_list("pk", flat=True):
        positions.invalidate(owner_id)
    if connection.vendor == "postgresql":
        # Statistics and the visibility map, as autovacuum leaves them in production.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(
        f"bench scale: {info['users']} users, {info['characters']} characters "
        f"({info['owner_characters']} the bench user's) in {time.monotonic() - started:.0f}s",
        flush=True,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
