"""Knowledge-base query time for one character with many chunks (`make bench-kb`).

For each size (default 1,000 and 20,000 chunks) it seeds one character whose documents hold
that many ~500-word chunks, then times in-process `GET /api/knowledge-base/query/` requests
(the full Django + DRF stack with production settings: authentication, validation, the query
embedding, the character and passage queries, ranking; no network):

- warm: the character's vectors already in the process's cache (every query after the first
  one following a change to its documents);
- cold: the cache emptied before each request (the first query after a change, or in a new
  worker process).

The vectors are random unit vectors, not embeddings of the seeded text: ranking costs the same
whatever they hold, and embedding 20,000 chunks would make seeding the slow part. SQLite in a
throwaway folder unless DATABASE_URL is set (point it at a throwaway database: the bench's
user and characters are replaced).
"""

import argparse
import base64
import os
import secrets
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from cryptography.fernet import Fernet

WORKER_KEY = secrets.token_urlsafe(32)
BENCH_EMAIL = "kb-bench@bench.invalid"
CHUNKS_PER_DOCUMENT = 500
QUESTION = "how do I get my money back"


def configure_environment(workdir):
    os.environ.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=base64.urlsafe_b64encode(secrets.token_bytes(48)).decode(),
        FERNET_KEYS=Fernet.generate_key().decode(),
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        MEDIA_ROOT=str(workdir / "media"),
        LOG_LEVEL="WARNING",
        KB_QUERY_API_KEY=WORKER_KEY,
        API_THROTTLE_RATE="100000/second",
        KB_QUERY_KEY_THROTTLE_RATE="100000/second",
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'kb-bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "oshara.settings"
    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # no collectstatic here


def seed(chunk_count):
    """A fresh bench user with one character holding `chunk_count` embedded chunks."""
    from accounts.models import User
    from bench.prepare import embedded_chunks
    from characters.models import Character

    User.objects.filter(email=BENCH_EMAIL).delete()
    user = User.objects.create_user(email=BENCH_EMAIL, password=secrets.token_urlsafe())
    character = Character.objects.create(owner=user, slug=f"kb-bench-{chunk_count}", name="KB")
    embedded_chunks(character, chunk_count, per_document=CHUNKS_PER_DOCUMENT)
    return character


def timed(client, slug, count, before=None):
    """Milliseconds per request, after one untimed warm-up."""
    from knowledge.search import clear_cache

    params = {"slug": slug, "q": QUESTION, "top_k": 5}
    headers = {"X-API-Key": WORKER_KEY}
    assert client.get("/api/knowledge-base/query/", params, headers=headers).status_code == 200
    times = []
    for _ in range(count):
        if before == "clear":
            clear_cache()
        started = time.perf_counter()
        response = client.get("/api/knowledge-base/query/", params, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and len(response.json()) == 5, response.content
    return times


def percentiles(times):
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[1_000, 20_000])
    parser.add_argument("--requests", type=int, default=300, help="warm requests per size")
    parser.add_argument("--cold-requests", type=int, default=20, help="cold requests per size")
    args = parser.parse_args()
    configure_environment(Path(tempfile.mkdtemp(prefix="oshara-kb-bench-")))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    client = Client(HTTP_HOST="127.0.0.1")
    print(f"database: {connection.vendor}; one process, in-process requests (no network)")
    print(f"{'chunks':>8} {'warm p50':>9} {'warm p95':>9} {'cold p50':>9} {'cold p95':>9}  (ms)")
    for chunk_count in args.chunks:
        character = seed(chunk_count)
        warm = percentiles(timed(client, character.slug, args.requests))
        cold = percentiles(timed(client, character.slug, args.cold_requests, before="clear"))
        print(f"{chunk_count:>8} {warm[0]:>9.2f} {warm[1]:>9.2f} {cold[0]:>9.2f} {cold[1]:>9.2f}")


if __name__ == "__main__":
    main()
