"""`make bench-profile`: where retrieve, list and the widget fetch spend their time.

Seeds the same data as `make bench` into a throwaway SQLite database (or DATABASE_URL), then
profiles many in-process requests per endpoint (the full Django + DRF stack, production
settings, no network) and prints each profile with the SQL one request runs.
"""

import argparse
import base64
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet


def configure_environment(workdir):
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
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'profile.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "oshara.settings"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per endpoint (list: /10)")
    parser.add_argument("--top", type=int, default=40, help="functions shown per profile")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="oshara-profile-"))
    configure_environment(workdir)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    from bench import seed

    seed.main(workdir)
    info = __import__("json").loads((workdir / "seed.json").read_text())
    client = Client(HTTP_HOST=seed.HOST)
    counts = (args.requests, args.requests // 10, args.requests)  # retrieve, list, appearance
    for target, count in zip(info["targets"], counts, strict=False):
        if "missing" in target:
            continue
        path, headers = target["path"], target["headers"]
        with CaptureQueriesContext(connection) as captured:
            client.get(path, headers=headers)
        print(f"\n===== {target['name']}: GET {path}, {len(captured)} queries")
        for query in captured:
            print("  ", query["sql"][:160])
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(count):
                client.get(path, headers=headers)
        # Cumulative time per function shows which layer costs what; self time, the leaves.
        for mode, top in (("total", args.top), ("self", args.top // 2)):
            text = profiler.output_text(flat=True, flat_time=mode, time="percent_of_total")
            print(f"--- {mode} time, top {top}")
            print("\n".join(text.splitlines()[:top]))


if __name__ == "__main__":
    main()
