"""What the bench scripts share: the environment of each shape, gunicorn, wrk, worker RSS."""

import base64
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

from bench.paths import POSTGRES, SQLITE

REPO = Path(__file__).resolve().parent.parent
RESULT_LINE = re.compile(r"BENCH_RESULT (.*)")
BENCH_THROTTLE_RATE = "5000/second"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/oshara_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
SHAPE_TITLES = {SQLITE: "SQLite + local-memory cache", POSTGRES: "PostgreSQL + Redis"}


def require_wrk():
    """wrk comes from the system packages; install it when we can (root with apt-get)."""
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("bench: installing wrk (apt-get install wrk)", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        return
    sys.exit("bench: the load generator wrk is required: sudo apt-get install wrk")


def postgres_urls(database_suffix=""):
    """(database URL, Redis URL) of the production shape: DATABASE_URL / REDIS_URL when set,
    else BENCH_DATABASE_URL / BENCH_REDIS_URL, else local defaults."""
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith("postgres"):
        database = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis = os.environ.get("REDIS_URL") or os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    return database + database_suffix, redis


def _admin(url):
    import psycopg

    parts = urllib.parse.urlsplit(url)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    name = psycopg.sql.Identifier(parts.path.lstrip("/"))
    return psycopg.connect(admin, autocommit=True), name, parts.path.lstrip("/")


def create_database(url, fresh=False):
    """Create the PostgreSQL database of `url` if missing (dropped first when `fresh`)."""
    from psycopg.sql import SQL

    connection, quoted, name = _admin(url)
    with connection:
        if fresh:
            connection.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(quoted))
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(SQL("CREATE DATABASE {}").format(quoted))


def drop_database(url):
    from psycopg.sql import SQL

    connection, quoted, _ = _admin(url)
    with connection:
        connection.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(quoted))


def shape_env(shape, workdir, database_suffix="", fresh_database=False):
    """Production settings (DEBUG off, fresh secrets, no HTTPS redirect on plain localhost)
    on the shape's database and cache."""
    env = dict(os.environ)
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=base64.urlsafe_b64encode(secrets.token_bytes(48)).decode(),
        FERNET_KEYS=Fernet.generate_key().decode(),
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        STATIC_ROOT=str(workdir / "static"),
        MEDIA_ROOT=str(workdir / "media"),
        PRIVATE_MEDIA_ROOT=str(workdir / "private-media"),
        LOG_LEVEL="WARNING",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if shape == SQLITE:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
        env.pop("REDIS_URL", None)  # the in-process cache
    else:
        env["DATABASE_URL"], env["REDIS_URL"] = postgres_urls(database_suffix)
        create_database(env["DATABASE_URL"], fresh=fresh_database)
        # A prefix of its own: nothing from an earlier run is read, and cleanup finds its keys.
        env["CACHE_KEY_PREFIX"] = f"oshara-bench-{secrets.token_hex(4)}"
    # The throttle still runs on every request, over 1 s instead of 1 min: its history holds
    # the requests of the last second (about 1000 per worker at these rates, production's worst
    # is 1000), with room above the fastest target so one bench user is never refused.
    env.setdefault("API_THROTTLE_RATE", BENCH_THROTTLE_RATE)
    # The widget fetch's per-address throttle too: every wrk connection is one address.
    env.setdefault("WIDGET_THROTTLE_RATE", BENCH_THROTTLE_RATE)
    env.update(paths_env())
    env.pop("DJANGO_SETTINGS_MODULE", None)
    (workdir / "static").mkdir(exist_ok=True)
    return env


def paths_env():
    """What the call and knowledge paths need: made-up LiveKit credentials (session start
    mints its token locally, nothing is called), no per-owner session cap, a per-address
    session rate no run reaches, and the voice worker's knowledge-base key."""
    return {
        "LIVEKIT_URL": "wss://livekit.bench.invalid",
        "LIVEKIT_API_KEY": "APIbench",
        "LIVEKIT_API_SECRET": secrets.token_urlsafe(32),
        "MAX_CONCURRENT_SESSIONS": "0",
        "SESSION_THROTTLE_RATE": BENCH_THROTTLE_RATE,
        "KB_QUERY_API_KEY": secrets.token_urlsafe(32),
        "KB_QUERY_KEY_THROTTLE_RATE": BENCH_THROTTLE_RATE,
        "FORM_RESPONSE_THROTTLE_RATE": BENCH_THROTTLE_RATE,
        "FORM_RESPONSE_SESSION_THROTTLE_RATE": BENCH_THROTTLE_RATE,
    }


def clear_cache_keys(env):
    """Delete this run's keys from Redis (the prefix is the run's own)."""
    if "CACHE_KEY_PREFIX" not in env:
        return
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    keys = list(client.scan_iter(match=f"{env['CACHE_KEY_PREFIX']}:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def floor_env(env, seeded):
    """The floor server's environment: the project's, with the floor URLconf and its bodies."""
    return dict(
        env,
        DJANGO_SETTINGS_MODULE="bench.floor_settings",
        BENCH_FLOOR_BODY=seeded["floor_body"],
        BENCH_FLOOR_APPEARANCE_BODY=seeded["floor_appearance_body"],
        BENCH_FLOOR_SLUG=seeded["slug"],
    )


def start_gunicorn(port, workers, env, app="oshara.wsgi:application"):
    command = [sys.executable, "-m", "gunicorn", app]
    command += ["--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--chdir", str(REPO)]
    command += ["--log-level", "warning"]
    return subprocess.Popen(command, env=env, cwd=REPO, start_new_session=True)


def wait_until_up(url, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"bench: the server for {url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers; the status does not matter here
        except OSError:
            time.sleep(0.3)
    sys.exit(f"bench: {url} did not come up within {timeout}s")


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def worker_rss_mib(process):
    """Resident memory of each gunicorn worker (the master's children), in MiB."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        kib = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
        sizes.append(kib / 1024)
    return sizes


def load(url, args, duration, target=None, script=None):
    """One wrk run against `url` with the target's method, headers and body."""
    target = target or {}
    headers = dict(target.get("headers") or {})
    env = dict(os.environ, BENCH_METHOD=target.get("method", "GET"), BENCH_BODY_FILE="")
    env["BENCH_URLS_FILE"] = ""
    if target.get("urls"):
        urls_file = Path(args.workdir) / "wrk-urls"
        urls_file.write_text("\n".join(target["urls"]) + "\n")
        env["BENCH_URLS_FILE"] = str(urls_file)
    if target.get("body") is not None:
        headers.setdefault("Content-Type", "application/json")
        body_file = Path(args.workdir) / "wrk-body"
        body_file.write_text(target["body"])
        env["BENCH_BODY_FILE"] = str(body_file)
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration}s"]
    command += ["-s", str(script or REPO / "bench" / "report.lua"), "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    run = subprocess.run([*command, url], capture_output=True, text=True, check=True, env=env)
    match = RESULT_LINE.search(run.stdout)
    if not match:
        sys.exit(f"bench: could not read wrk's output:\n{run.stdout}{run.stderr}")
    fields = dict(item.split("=") for item in match.group(1).split())
    result = {key: int(value) for key, value in fields.items()}
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def measure(url, args, target=None):
    load(url, args, args.warmup, target)
    return load(url, args, args.duration, target)
