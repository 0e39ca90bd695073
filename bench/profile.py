"""`make bench-profile`: where retrieve, list and the widget fetch spend their time.

Seeds the same data as `make bench` into a throwaway SQLite database (`--shape postgres`: the
PostgreSQL + Redis of `make bench`, see bench/servers.py), then profiles many in-process
requests per endpoint (the full Django + DRF stack, production settings, no network) and
prints each profile with the SQL one request runs.
"""

import argparse
import base64
import os
import secrets
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet


def configure_environment(workdir, shape):
    from bench import servers

    os.environ.update(servers.paths_env())
    if shape == "postgres":
        os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = servers.postgres_urls()
        servers.create_database(os.environ["DATABASE_URL"])
        os.environ["CACHE_KEY_PREFIX"] = f"oshara-profile-{secrets.token_hex(4)}"
    os.environ.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=base64.urlsafe_b64encode(secrets.token_bytes(48)).decode(),
        FERNET_KEYS=Fernet.generate_key().decode(),
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        MEDIA_ROOT=str(workdir / "media"),
        PRIVATE_MEDIA_ROOT=str(workdir / "private-media"),
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("API_THROTTLE_RATE", "5000/second")  # as bench/run.py
    os.environ.setdefault("WIDGET_THROTTLE_RATE", "5000/second")
    if shape == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'profile.sqlite3'}"
        os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "oshara.settings"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per endpoint (list: /10)")
    parser.add_argument("--top", type=int, default=40, help="functions shown per profile")
    parser.add_argument("--shape", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--paths",
        default=os.environ.get("BENCH_PATHS", ""),
        help="comma-separated parts of path names to profile (default every path)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="oshara-profile-"))
    configure_environment(workdir, args.shape)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    from bench import seed

    seed.main(workdir)
    info = __import__("json").loads((workdir / "seed.json").read_text())
    client = Client(HTTP_HOST=seed.HOST)
    wanted = [part.strip() for part in args.paths.split(",") if part.strip()]
    for target in info["targets"]:
        # In one process the change feed's recorder cannot be off for one path only.
        if "missing" in target or target["server"] != "project":
            continue
        if wanted and not any(part in target["name"] for part in wanted):
            continue
        # The list and the search cost ten times a retrieve.
        slow = any(word in target["name"] for word in ("list", "knowledge"))
        count = args.requests // 10 if slow else args.requests
        method, path, headers = target["method"], target["path"], target["headers"]

        def send(method=method, path=path, headers=headers, body=target["body"]):
            return client.generic(
                method,
                path,
                data=seed.unique(body),
                content_type="application/json",
                headers=headers,
            )

        with CaptureQueriesContext(connection) as captured:
            send()
        print(f"\n===== {target['name']}: {method} {path}, {len(captured)} queries")
        for query in captured:
            print("  ", query["sql"][:160])
        # The profiler's own cost inflates the time: the unprofiled runs give it.
        started = time.perf_counter()
        for _ in range(count):
            send()
        plain = (time.perf_counter() - started) / count * 1000
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        with profiler:
            for _ in range(count):
                send()
        profiled = (time.perf_counter() - started) / count * 1000
        print(f"--- {count} requests, {plain:.2f} ms each (in-process), {profiled:.2f} ms profiled")
        # Cumulative time per function shows which layer costs what; self time, the leaves.
        for mode, top in (("total", args.top), ("self", args.top // 2)):
            text = profiler.output_text(flat=True, flat_time=mode, time="percent_of_total")
            print(f"--- {mode} time, top {top}")
            print("\n".join(text.splitlines()[:top]))


if __name__ == "__main__":
    main()
