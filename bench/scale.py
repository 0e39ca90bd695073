"""`make bench-scale`: the reads at 100 and at 100,000 characters, plans, and worker memory.

On PostgreSQL + Redis (a fresh database named after the bench one plus `_scale`, dropped at
the end), one run:

1. seeds the 100-character bench user (bench/seed.py) and measures retrieve, list limit=20 at
   offset 0 and on the last page, and the appearance fetch, with their floors beside them;
2. adds 999 users and characters up to 100,000 in bulk (bench/scale_seed.py), the bench user
   owning 10,000, and measures the same paths (the deep page at offset 5,000) and floors;
3. prints both, each path as a share of the floor with the same I/O measured beside it (what
   survives a noisy machine) and the change between the two (target: within 10 %), then the
   EXPLAIN plans;
4. restarts the project with one worker and reads 20,000 distinct characters with 16 KB
   prompts by slug, printing the worker's RSS before and after.
"""

import argparse
import http.client
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import servers
from bench.paths import POSTGRES, SCALE_PATHS
from bench.run import FLOOR_NAMES

SCALE_TOLERANCE = 0.10


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 10)))
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8105)))
    parser.add_argument(
        "--floor-port", type=int, default=int(os.environ.get("BENCH_FLOOR_PORT", 8106))
    )
    parser.add_argument("--memory-characters", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the scale database")
    return parser.parse_args()


def python(env, *arguments):
    subprocess.run([sys.executable, "-m", *arguments], env=env, check=True, cwd=servers.REPO)


def measure_phase(env, seeded, targets, args, label):
    """The floors the paths compare to, then every target, on freshly started servers."""
    project = servers.start_gunicorn(args.port, args.workers, env)
    floor = servers.start_gunicorn(args.floor_port, args.workers, servers.floor_env(env, seeded))
    project_url = f"http://127.0.0.1:{args.port}"
    floor_url = f"http://127.0.0.1:{args.floor_port}"
    names = sorted({path.floor for path in SCALE_PATHS})
    try:
        servers.wait_until_up(project_url + "/healthz", project)
        servers.wait_until_up(floor_url + "/bare", floor)
        print(f"bench scale [{label}]: loading the floors and the paths", flush=True)
        before = {name: servers.measure(f"{floor_url}/{name}", args) for name in names}
        results = []
        for path, target in zip(SCALE_PATHS, targets, strict=True):
            # Its floor again right before it: the machine's drift between runs cancels.
            beside = servers.measure(f"{floor_url}/{path.floor}", args)
            results.append(servers.measure(project_url + target["path"], args, target))
            results[-1]["floor_beside"] = beside["rps"]
        after = {name: servers.measure(f"{floor_url}/{name}", args) for name in names}
    finally:
        servers.stop(project)
        servers.stop(floor)
    floors = {name: (before[name]["rps"] + after[name]["rps"]) / 2 for name in names}
    return floors, results


def comparison(small, large, scale_info):
    (small_floors, small_results), (large_floors, large_results) = small, large
    lines = [
        f"== Scale on PostgreSQL + Redis: 100 characters vs {scale_info['characters']:,} "
        f"({scale_info['users']:,} users; the bench user owns {scale_info['owner_characters']:,})",
        "",
        f"{'path':<28} {'100: req/s':>10} {'ratio':>6} {'100k: req/s':>11} {'ratio':>6} "
        f"{'change':>7}  within 10 %",
    ]
    for name in small_floors:
        lines.append(
            f"{'floor: ' + FLOOR_NAMES[name]:<28} {small_floors[name]:>10.0f} {1:>6.2f} "
            f"{large_floors[name]:>11.0f} {1:>6.2f}"
        )
    for path, before, after in zip(SCALE_PATHS, small_results, large_results, strict=True):
        ratio_before = before["rps"] / before["floor_beside"]
        ratio_after = after["rps"] / after["floor_beside"]
        change = ratio_after / ratio_before - 1
        errors = sum(r["non2xx"] + r["socket_errors"] for r in (before, after))
        verdict = "PASS" if change >= -SCALE_TOLERANCE else "MISS"
        row = f"{path.name:<28} {before['rps']:>10.0f} {ratio_before:>6.2f} "
        row += f"{after['rps']:>11.0f} {ratio_after:>6.2f} {100 * change:>+6.0f}%  {verdict}"
        lines.append(row + (f"  errors {errors}" if errors else ""))
    lines.append("(ratio: to the floor with the same I/O, measured right before the path; change:")
    lines.append(
        " the ratio at scale over the ratio at 100; deep offset = 80 at 100 characters,"
        " 5,000 at scale)"
    )
    return "\n".join(lines)


def read_all(port, token, prefix, count, clients=4):
    """GET every memory character once, from `clients` keep-alive connections."""
    slugs = queue.Queue()
    for index in range(count):
        slugs.put(f"/api/ai-characters/{prefix}{index:05d}/")
    failures = []

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}"}
        while True:
            try:
                path = slugs.get_nowait()
            except queue.Empty:
                return
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append((path, response.status))

    workers = [threading.Thread(target=client) for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return failures


def memory(env, scale_info, args):
    project = servers.start_gunicorn(args.port, 1, env)
    try:
        servers.wait_until_up(f"http://127.0.0.1:{args.port}/healthz", project)
        token, prefix = scale_info["memory_token"], scale_info["memory_prefix"]
        read_all(args.port, token, prefix, 10, clients=1)  # imports, connections, first fills
        before = servers.worker_rss_mib(project)[0]
        print(f"bench scale: reading {args.memory_characters:,} characters (1 worker)", flush=True)
        started = time.monotonic()
        failures = read_all(args.port, token, prefix, args.memory_characters)
        took = time.monotonic() - started
        after = servers.worker_rss_mib(project)[0]
    finally:
        servers.stop(project)
    if failures:
        sys.exit(f"bench scale: {len(failures)} reads failed, first {failures[0]}")
    return (
        f"== Memory: one gunicorn worker reading {args.memory_characters:,} distinct characters "
        f"(16 KB prompts) by slug, {took:.0f}s\nRSS before: {before:.1f} MiB; after: "
        f"{after:.1f} MiB (+{after - before:.1f} MiB)"
    )


def main():
    args = parse_args()
    servers.require_wrk()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="oshara-bench-scale-"))
    args.workdir = workdir
    env = servers.shape_env(POSTGRES, workdir, "_scale", fresh_database=True)
    try:
        print(f"bench scale: seeding 100 characters in {env['DATABASE_URL']}", flush=True)
        python(env, "bench.seed", str(workdir), "scale")
        seeded = json.loads((workdir / "seed.json").read_text())
        small = measure_phase(env, seeded, seeded["targets"], args, "100 characters")
        print("bench scale: bulk seeding", flush=True)
        memory_count = f"--memory-characters={args.memory_characters}"
        python(env, "bench.scale_seed", "seed", str(workdir), memory_count)
        scale_info = json.loads((workdir / "scale.json").read_text())
        context = dict(seeded["context"], deep_offset=5000)
        targets = []
        for path, target in zip(SCALE_PATHS, seeded["targets"], strict=True):
            url, headers, body = path.render(context)
            targets.append(dict(target, path=url, headers=headers, body=body))
        large = measure_phase(env, seeded, targets, args, "100,000 characters")
        report = [comparison(small, large, scale_info)]
        plans = subprocess.run(
            [sys.executable, "-m", "bench.scale_seed", "explain"],
            env=env,
            cwd=servers.REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        report.append("== EXPLAIN (ANALYZE, BUFFERS) at scale, the bench user\n" + plans)
        print("\n" + "\n\n".join(report) + "\n", flush=True)  # the memory phase takes a while
        report.append(memory(env, scale_info, args))
    finally:
        servers.clear_cache_keys(env)
        if not args.keep:
            servers.drop_database(env["DATABASE_URL"])
    text = "\n\n".join(report) + f"\n\nmake bench-scale took {time.monotonic() - started:.0f}s"
    print("\n" + report[-1] + f"\n\nmake bench-scale took {time.monotonic() - started:.0f}s")
    results = servers.REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "scale.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
