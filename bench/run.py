"""`make bench`: the project under gunicorn against the framework's floor, one table out.

Seeds a throwaway SQLite database (or DATABASE_URL when set), starts the project and the
floor (bench/floor_urls.py) under the same gunicorn settings with production settings, drives
each target with wrk from this process's child, and prints requests/s, p50/p99 latency, the
ratio to the floor's requests/s, SQL queries per request and RSS per worker.
"""

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parent.parent
RESULT_LINE = re.compile(r"BENCH_RESULT (.*)")
BENCH_THROTTLE_RATE = "5000/second"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 10)))
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8105)))
    parser.add_argument(
        "--floor-port", type=int, default=int(os.environ.get("BENCH_FLOOR_PORT", 8106))
    )
    return parser.parse_args()


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


def bench_env(workdir):
    """Production settings: DEBUG off, fresh secrets, no HTTPS redirect on plain localhost."""
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
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    # The throttle still runs on every request, over 1 s instead of 1 min: its history holds
    # the requests of the last second (about 1000 per worker at these rates, production's worst
    # is 1000), with room above the fastest target so one bench user is never refused.
    env.setdefault("API_THROTTLE_RATE", BENCH_THROTTLE_RATE)
    # The widget fetch's per-address throttle too: every wrk connection is one address.
    env.setdefault("WIDGET_THROTTLE_RATE", BENCH_THROTTLE_RATE)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    (workdir / "static").mkdir()
    return env


def start_gunicorn(port, workers, env):
    command = [sys.executable, "-m", "gunicorn", "oshara.wsgi:application"]
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


def load(url, headers, args, duration):
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration}s"]
    command += ["-s", str(REPO / "bench" / "report.lua"), "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    match = RESULT_LINE.search(output)
    if not match:
        sys.exit(f"bench: could not read wrk's output:\n{output}")
    fields = dict(item.split("=") for item in match.group(1).split())
    result = {key: int(value) for key, value in fields.items()}
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def measure(url, headers, args):
    load(url, headers, args, args.warmup)
    return load(url, headers, args, args.duration)


def format_table(floor, rows, rss, args, database):
    lines = [
        f"wrk: {args.threads} threads, {args.connections} connections, {args.duration}s per "
        f"target; gunicorn: {args.workers} sync workers each; database: {database}",
        "",
        f"{'target':<24} {'req/s':>8} {'% floor':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'SQL/req':>8}  errors",
    ]
    floor_rps = floor["rps"]
    row = f"{'floor (bytes, no auth)':<24} {floor_rps:>8.0f} {100:>7.0f}% "
    row += f"{floor['p50_us'] / 1000:>8.2f} {floor['p99_us'] / 1000:>8.2f} {0:>8}"
    lines.append(row)
    for target, result in rows:
        if result is None:
            lines.append(f"{target['name']:<24} n/a ({target['missing']})")
            continue
        errors = result["non2xx"] + result["socket_errors"]
        ratio = 100 * result["rps"] / floor_rps
        row = f"{target['name']:<24} {result['rps']:>8.0f} {ratio:>7.1f}% "
        row += f"{result['p50_us'] / 1000:>8.2f} {result['p99_us'] / 1000:>8.2f} "
        row += f"{target['queries']:>8}  {errors or ''}"
        lines.append(row)
    lines.append("")
    for name, sizes in rss.items():
        listed = ", ".join(f"{size:.1f}" for size in sizes)
        lines.append(f"RSS per worker ({name}): {listed} MiB")
    return "\n".join(lines)


def main():
    args = parse_args()
    require_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="oshara-bench-"))
    env = bench_env(workdir)
    database = env["DATABASE_URL"].split("://")[0]
    print(f"bench: seeding ({database}) in {workdir}", flush=True)
    seed_command = [sys.executable, "-m", "bench.seed", str(workdir)]
    subprocess.run(seed_command, env=env, cwd=REPO, check=True)
    seeded = json.loads((workdir / "seed.json").read_text())
    floor_env = dict(env, DJANGO_SETTINGS_MODULE="bench.floor_settings")
    floor_env["BENCH_FLOOR_BODY"] = seeded["floor_body"]
    project = start_gunicorn(args.port, args.workers, env)
    floor_server = start_gunicorn(args.floor_port, args.workers, floor_env)
    try:
        project_url, floor_url = (
            f"http://127.0.0.1:{args.port}",
            f"http://127.0.0.1:{args.floor_port}",
        )
        wait_until_up(project_url + "/healthz", project)
        wait_until_up(floor_url + "/", floor_server)
        print("bench: loading the floor", flush=True)
        floor_runs = [measure(floor_url + "/", {}, args)]
        rows = []
        for target in seeded["targets"]:
            result = None
            if "missing" not in target:
                print(f"bench: loading {target['name']}", flush=True)
                result = measure(project_url + target["path"], target["headers"], args)
            rows.append((target, result))
        print("bench: loading the floor again (noise check)", flush=True)
        floor_runs.append(measure(floor_url + "/", {}, args))
        rss = {"project": worker_rss_mib(project), "floor": worker_rss_mib(floor_server)}
    finally:
        stop(project)
        stop(floor_server)
    # The floor is measured before and after the targets; their mean absorbs drift.
    floor = {key: sum(run[key] for run in floor_runs) / 2 for key in ("rps", "p50_us", "p99_us")}
    table = format_table(floor, rows, rss, args, database)
    spread = abs(floor_runs[0]["rps"] - floor_runs[1]["rps"]) / floor["rps"]
    table += f"\nfloor runs: {floor_runs[0]['rps']:.0f} and {floor_runs[1]['rps']:.0f} req/s "
    table += f"({100 * spread:.0f}% apart; a large gap means a noisy machine)"
    print("\n" + table)
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.txt").write_text(table + "\n")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
