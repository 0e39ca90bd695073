"""The data of the paths that need more than the seeded characters (bench/paths.py).

Each function runs in the seeding process (bench/seed.py, Django set up, inside no
transaction), creates what its path needs for the seeded character `{slug}` and returns more
placeholders. Imports are inside the functions: bench/paths.py is also read by bench/run.py,
which never sets Django up.
"""

import json
import urllib.parse

KB_EMAIL = "bench-kb-user@bench.invalid"
KB_SLUG = "bench-agent-knowledge"  # the bench prefix: bench/seed.py deletes it with the rest
KB_CHUNKS = 20_000
KB_CHUNKS_PER_DOCUMENT = 500
KB_QUESTION = "how do I get my money back"


def api_key(context):
    """A key of the bench user's own, for `X-API-Key`."""
    from accounts.api_keys.services import create_key
    from accounts.models import User

    user = User.objects.get(email=context["email"])
    _, full_key = create_key(user, "bench")
    return {"api_key": full_key}


def session_start(context):
    """The session start's body; LiveKit and the limits come from the environment
    (bench/servers.py, shape_env)."""
    return {"session_body": json.dumps({"agent": context["slug"]})}


def form_submission(context):
    """The seeded appearance's `book-demo` form (name, email), filled in, in one session of the
    seeded character (started as the widget would, a stored row)."""
    from datetime import timedelta

    from django.utils import timezone

    from calls.models import CallSession
    from characters.models import Character

    character = Character.objects.get(slug=context["slug"])
    session = CallSession.objects.create(
        character=character,
        character_slug=character.slug,
        owner_id=character.owner_id,
        room_name=f"{character.slug}-bench",
        participant_identity="visitor-bench",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    values = {"name": "Ada Lovelace", "email": "ada@acme.com"}
    body = {"form_id": "book-demo", "session_id": session.pk, "values": values}
    return {"form_body": json.dumps(body)}


def embedded_chunks(character, chunk_count, per_document=KB_CHUNKS_PER_DOCUMENT):
    """`chunk_count` chunks of random unit vectors (the configured embedder's dimension) in
    PROCESSED documents of `character`: ranking costs the same whatever the vectors hold, and
    embedding 20,000 chunks would make seeding the slow part. Shared with bench/kb_query.py."""
    import numpy as np

    from knowledge.embeddings import get_embedder, normalised, to_bytes
    from knowledge.models import Document, DocumentChunk

    embedder = get_embedder()
    generator = np.random.default_rng(chunk_count)
    text = " ".join(f"word{number}" for number in range(500))  # ~4.4 KB, a full chunk
    for start in range(0, chunk_count, per_document):
        count = min(per_document, chunk_count - start)
        document = Document.objects.create(
            character=character,
            file=f"documents/bench/manual-{start}.pdf",
            file_type=Document.FileType.PDF,
            status=Document.Status.PROCESSED,
            chunk_count=count,
        )
        vectors = normalised(generator.standard_normal((count, embedder.dimensions)))
        DocumentChunk.objects.bulk_create(
            [
                DocumentChunk(
                    document=document,
                    index=index,
                    text=text,
                    token_count=500,
                    page=index + 1,
                    embedding=to_bytes(vector),
                    embedding_model=embedder.name,
                    embedding_dimensions=embedder.dimensions,
                )
                for index, vector in enumerate(vectors)
            ],
            batch_size=500,
        )


def knowledge_chunks(context):
    """KB_CHUNKS embedded chunks of one character of another user (the bench user's
    characters and their representations stay as they are)."""
    from django.conf import settings

    from accounts.models import User
    from characters.models import Character

    User.objects.filter(email=KB_EMAIL).delete()
    owner = User.objects.create_user(email=KB_EMAIL, password=None)
    character = Character.objects.create(owner=owner, slug=KB_SLUG, name="Knowledge bench")
    embedded_chunks(character, KB_CHUNKS)
    query = urllib.parse.urlencode({"slug": KB_SLUG, "q": KB_QUESTION, "top_k": 5})
    return {"kb_query": query, "kb_key": settings.KB_QUERY_API_KEY, "kb_top_k": 5}


def manual_published(context):
    """A seeded character (another than `{slug}`) made "manual", its version published and a
    newer draft saved: the public paths meet the published version, rebuilt from its stored
    snapshot on a miss and served from the widget cache on a hit."""
    from django.db import transaction

    from characters import services
    from characters.models import Character, Publishing

    slug = next(slug for slug in context["slugs"] if slug != context["slug"])
    with transaction.atomic():
        character = Character.objects.select_for_update().get(slug=slug)
        # A version that holds its handoff targets (version 1 was saved before they were).
        changes = {"publishing": Publishing.MANUAL, "greeting": "The published greeting."}
        services.character_update(character, changes)
        services.publish(character, character.version)
        services.character_update(character, {"greeting": "A draft nobody meets yet."})
    return {"manual_slug": slug}


HISTORY_VERSIONS = 10_000
HISTORY_PAGE = 20


def long_history(context):
    """HISTORY_VERSIONS versions of one seeded character (not `{slug}`, nor the manual one),
    in bulk, every tenth number missing as retention pruning would leave gaps; then VACUUM
    ANALYZE on PostgreSQL, as autovacuum would leave the table (its index-only scans)."""
    from django.db import connection

    from characters.models import Character, CharacterVersion

    slug = context["slugs"][2]
    character = Character.objects.get(slug=slug)
    numbers = [number for number in range(2, HISTORY_VERSIONS * 10 // 9 + 3) if number % 10]
    numbers = numbers[: HISTORY_VERSIONS - 1]
    snapshot = CharacterVersion.objects.get(character=character, number=1).snapshot
    CharacterVersion.objects.bulk_create(
        (
            CharacterVersion(
                character=character,
                number=number,
                snapshot=snapshot,
                author_type="system",
                source="api",
                changed=["greeting"],
            )
            for number in numbers
        ),
        batch_size=1000,
    )
    character.version = numbers[-1]  # the next PATCH records the number after them
    character.save()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {CharacterVersion._meta.db_table}")
    deep = HISTORY_VERSIONS - HISTORY_PAGE
    return {"history_slug": slug, "history_limit": HISTORY_PAGE, "history_deep": deep}


def explain_history(context, deep):
    """The plans of the versions list's statements, of its first page and total, or of its
    deep page:
    EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from characters.api.pagination import AnchoredLimitOffsetPagination
    from characters.models import Character, CharacterVersion

    offset = context["history_deep"] if deep else 0
    character = Character.objects.get(slug=context["history_slug"])
    versions = CharacterVersion.objects.filter(character=character)
    versions = versions.order_by("-number").defer("snapshot", "secrets")
    limit, count = context["history_limit"], versions.count()
    page = AnchoredLimitOffsetPagination.page(versions, offset, limit, count)
    statements = []
    with CaptureQueriesContext(connection) as captured:
        if offset == 0:
            versions.count()
        list(page)
    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        for query in captured:
            cursor.execute(prefix + query["sql"])
            plan = "\n".join("  " + " ".join(str(part) for part in row) for row in cursor)
            statements.append(f"{query['sql']}\n{plan}")
    return "\n".join(statements)
