"""`make bench-webhooks`: webhook delivery throughput and latency, and the audit log at scale.

On PostgreSQL + Redis with production settings (a fresh database named after the bench one
plus `_webhooks`, dropped at the end unless `--keep`), http and private addresses allowed so
the worker may call a receiver on 127.0.0.1:

1. throughput: a backlog of events for one endpoint, then the task worker as deployed
   (`manage.py db_worker`, its defaults) sends them to a local receiver answering 200;
   deliveries/s over a minute from the first arrival (target ≥ 100);
2. latency: events at a steady 20/s through the outbox's path, each in its own transaction,
   with the worker running; each event's created_at to its first arrival at the receiver,
   p50 and p95 (target p95 ≤ 2 s);
3. the audit log with 1,000,000 events of one organization: `GET /api/events/` first page,
   a page 10,000 events deep (its cursor) and the same with `?type=character.`, each with
   the `bare + 1 SQL` floor measured right before it (target ≥ 0.30), and the EXPLAIN
   (ANALYZE, BUFFERS) of their queries.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench import servers
from bench.paths import POSTGRES

THROUGHPUT_TARGET, LATENCY_TARGET, AUDIT_TARGET = 100, 2.0, 0.30


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", default="throughput,latency,audit")
    parser.add_argument("--backlog", type=int, default=15_000, help="events for throughput")
    parser.add_argument("--window", type=float, default=60, help="throughput seconds")
    parser.add_argument("--rate", type=float, default=20, help="events/s for latency")
    parser.add_argument("--latency-seconds", type=float, default=45)
    parser.add_argument("--audit-events", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 10)))
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8105)))
    parser.add_argument(
        "--floor-port", type=int, default=int(os.environ.get("BENCH_FLOOR_PORT", 8106))
    )
    parser.add_argument(
        "--receiver-port", type=int, default=int(os.environ.get("BENCH_RECEIVER_PORT", 8107))
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    return parser.parse_args()


class Receiver:
    """A threaded HTTP server that answers 200 at once and notes each arrival's time and the
    event's timestamp (the body's), read after the run."""

    def __init__(self, port):
        arrivals = self.arrivals = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrivals.append((time.time(), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def latencies(self):
        return sorted(
            arrived - datetime.fromisoformat(json.loads(body)["timestamp"]).timestamp()
            for arrived, body in self.arrivals
        )


def django(env, workdir, *arguments, capture=False):
    command = [sys.executable, "-m", "bench.webhooks_seed", arguments[0], str(workdir)]
    run = subprocess.run(
        command + [str(a) for a in arguments[1:]],
        env=env,
        cwd=servers.REPO,
        check=True,
        capture_output=capture,
        text=True,
    )
    return run.stdout


def start_worker(env):
    """The worker as docker-compose runs it: `manage.py db_worker`, no options."""
    command = [sys.executable, "manage.py", "db_worker"]
    return subprocess.Popen(
        command, env=env, cwd=servers.REPO, start_new_session=True, stdout=subprocess.DEVNULL
    )


def throughput(env, workdir, receiver, args):
    django(env, workdir, "backlog", args.backlog)
    receiver.arrivals.clear()
    started = time.time()
    worker = start_worker(env)
    try:
        while not receiver.arrivals and time.time() - started < 300:
            time.sleep(0.1)
        if not receiver.arrivals:
            sys.exit("bench webhooks: nothing arrived within 300 s")
        first = receiver.arrivals[0][0]
        while time.time() < first + args.window and len(receiver.arrivals) < args.backlog:
            time.sleep(0.2)
        times = [arrived for arrived, _ in receiver.arrivals]
    finally:
        servers.stop(worker)
    within = [t for t in times if t <= first + args.window]
    span = args.window if len(within) < args.backlog else max(within[-1] - first, 1e-6)
    return {
        "deliveries": len(within),
        "seconds": span,
        "rate": len(within) / span,
        "dispatch_seconds": first - started,
    }


def percentile(values, share):
    return values[min(len(values) - 1, int(share * len(values)))]


def latency(env, workdir, receiver, args):
    django(env, workdir, "reset")
    receiver.arrivals.clear()
    worker = start_worker(env)
    try:
        time.sleep(3)  # the worker's start (imports, its random start-up delay)
        django(env, workdir, "produce", args.rate, args.latency_seconds)
        produced = json.loads((workdir / "produced.json").read_text())
        deadline = time.time() + 30
        while len(receiver.arrivals) < produced["events"] and time.time() < deadline:
            time.sleep(0.2)
    finally:
        servers.stop(worker)
    values = receiver.latencies()
    return {
        "events": produced["events"],
        "rate": produced["events"] / produced["seconds"],
        "arrived": len(values),
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "max": values[-1],
    }


def audit(env, workdir, seeded, args):
    print(f"bench webhooks: seeding {args.audit_events:,} events", flush=True)
    django(env, workdir, "audit", args.audit_events)
    info = json.loads((workdir / "audit.json").read_text())
    auth = {"Authorization": f"Bearer {seeded['context']['token']}"}
    pages = [
        ("first page", "/api/events/"),
        ("10,000 deep", f"/api/events/?cursor={info['cursor']}"),
        (
            "?type=character. 10,000 deep",
            f"/api/events/?type=character.&cursor={info['type_cursor']}",
        ),
    ]
    project = servers.start_gunicorn(args.port, args.workers, env)
    floor = servers.start_gunicorn(args.floor_port, args.workers, servers.floor_env(env, seeded))
    project_url, floor_url = f"http://127.0.0.1:{args.port}", f"http://127.0.0.1:{args.floor_port}"
    try:
        servers.wait_until_up(project_url + "/healthz", project)
        servers.wait_until_up(floor_url + "/bare", floor)
        for _, path in pages:
            request = urllib.request.Request(project_url + path, headers=auth)
            with urllib.request.urlopen(request, timeout=30) as response:
                if len(json.loads(response.read())) != 50:
                    sys.exit(f"bench webhooks: {path} did not return 50 events")
        floors = {
            name: [servers.measure(f"{floor_url}/{name}", args)["rps"]] for name in ("bare", "sql")
        }
        rows = []
        for name, path in pages:
            beside = servers.measure(f"{floor_url}/sql", args)["rps"]
            result = servers.measure(project_url + path, args, {"headers": auth})
            rows.append((name, result, beside))
        for name in floors:
            floors[name].append(servers.measure(f"{floor_url}/{name}", args)["rps"])
    finally:
        servers.stop(project)
        servers.stop(floor)
    plans = django(env, workdir, "explain", capture=True)
    return {"info": info, "floors": floors, "rows": rows, "plans": plans}


def report(results, args):
    lines = ["== make bench-webhooks (PostgreSQL + Redis, production settings)", ""]
    if "throughput" in results:
        t = results["throughput"]
        verdict = "PASS" if t["rate"] >= THROUGHPUT_TARGET else "MISS"
        lines.append(
            f"throughput: {t['deliveries']:,} deliveries in {t['seconds']:.0f} s = "
            f"{t['rate']:.0f}/s (target >= {THROUGHPUT_TARGET}) {verdict}; "
            f"{args.backlog:,}-event backlog dispatched in {t['dispatch_seconds']:.1f} s"
        )
    if "latency" in results:
        lat = results["latency"]
        verdict = "PASS" if lat["p95"] <= LATENCY_TARGET else "MISS"
        lines.append(
            f"latency at {lat['rate']:.1f} events/s ({lat['events']} events, {lat['arrived']} "
            f"arrived): p50 {lat['p50']:.3f} s, p95 {lat['p95']:.3f} s, max {lat['max']:.3f} s "
            f"(target p95 <= {LATENCY_TARGET} s) {verdict}"
        )
    if "audit" in results:
        a = results["audit"]
        lines += [
            "",
            f"audit log, {a['info']['events']:,} events of one organization "
            f"(seeded in {a['info']['seconds']:.0f} s):",
            "",
        ]
        lines.append(
            f"{'path':<32} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'beside':>7} {'ratio':>6}"
        )
        for name, runs in a["floors"].items():
            label = "floor: " + ("bare + 1 SQL" if name == "sql" else name)
            lines.append(
                f"{label:<32} {sum(runs) / 2:>7.0f}   (runs {runs[0]:.0f} / {runs[1]:.0f})"
            )
        for name, result, beside in a["rows"]:
            ratio = result["rps"] / beside
            verdict = "PASS" if ratio >= AUDIT_TARGET else "MISS"
            errors = result["non2xx"] + result["socket_errors"]
            lines.append(
                f"{name:<32} {result['rps']:>7.0f} {result['p50_us'] / 1000:>7.1f} "
                f"{result['p99_us'] / 1000:>7.1f} {beside:>7.0f} {ratio:>6.2f} "
                f">= {AUDIT_TARGET} {verdict}" + (f"  errors {errors}" if errors else "")
            )
        lines += ["", "== EXPLAIN (ANALYZE, BUFFERS) of the log's queries", a["plans"]]
    return "\n".join(lines)


def main():
    args = parse_args()
    phases = args.phases.split(",")
    servers.require_wrk()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="oshara-bench-webhooks-"))
    args.workdir = workdir
    env = servers.shape_env(POSTGRES, workdir, "_webhooks", fresh_database=True)
    env.update(WEBHOOK_ALLOW_HTTP="true", WEBHOOK_ALLOW_PRIVATE_NETWORKS="true")
    results = {}
    try:
        print(f"bench webhooks: seeding {env['DATABASE_URL']}", flush=True)
        subprocess.run(
            [sys.executable, "-m", "bench.seed", str(workdir), "scale"],
            env=env,
            cwd=servers.REPO,
            check=True,
        )
        seeded = json.loads((workdir / "seed.json").read_text())
        receiver = Receiver(args.receiver_port)
        django(env, workdir, "endpoint", receiver.url)
        if "throughput" in phases:
            print("bench webhooks: throughput", flush=True)
            results["throughput"] = throughput(env, workdir, receiver, args)
        if "latency" in phases:
            print("bench webhooks: latency", flush=True)
            results["latency"] = latency(env, workdir, receiver, args)
        if "audit" in phases:
            results["audit"] = audit(env, workdir, seeded, args)
    finally:
        servers.clear_cache_keys(env)
        if not args.keep:
            servers.drop_database(env["DATABASE_URL"])
    text = report(results, args) + f"\nmake bench-webhooks took {time.monotonic() - started:.0f}s"
    print("\n" + text)
    out = servers.REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "webhooks.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
