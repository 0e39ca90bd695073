"""`make bench`: the project under gunicorn against the framework's floors, in both shapes.

For each shape (SQLite + local-memory cache, then PostgreSQL + Redis) it seeds the database,
starts the project and the floors (bench/floor_urls.py) under the same gunicorn settings with
production settings, drives every path of bench/paths.py with wrk, and prints one table:
requests/s, p50/p99 latency, SQL queries per request, the ratio to the floor with the same
I/O and to the bare floor, the path's target and PASS/MISS, and the RSS of every worker.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import servers
from bench.paths import PATHS, POSTGRES, SQLITE

FLOOR_NAMES = {
    "bare": "bare",
    "sql": "bare + 1 SQL",
    "cache": "bare + 1 cache GET",
    "insert": "bare + 1 INSERT",
}
# The INSERT floor writes thousands of rows, and the database's work after them (WAL flushes,
# checkpoints, autovacuum) would fall on whatever is measured next: it runs once, last.
READ_FLOORS = [name for name in FLOOR_NAMES if name != "insert"]
NO_EVENTS_APP = "bench.no_events_wsgi:application"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shapes",
        default=os.environ.get("BENCH_SHAPES", f"{SQLITE},{POSTGRES}"),
        help=f"comma-separated: {SQLITE}, {POSTGRES} (default both)",
    )
    parser.add_argument(
        "--paths",
        default=os.environ.get("BENCH_PATHS", ""),
        help="comma-separated parts of path names to load (default every path)",
    )
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 10)))
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8105)))
    parser.add_argument(
        "--floor-port", type=int, default=int(os.environ.get("BENCH_FLOOR_PORT", 8106))
    )
    parser.add_argument(
        "--no-events-port",
        type=int,
        default=None,
        help="the project without the change feed's recorder (default: the floor port + 1)",
    )
    return parser.parse_args()


def target_floor(shape, path):
    """The floor a path's target is a ratio of (its I/O floor when it has no target)."""
    target = path.targets.get(shape)
    return path.floor if target is None else target.floor


def verdict(shape, path, result):
    """(target text, ratio to the target's floor measured beside the path, PASS/MISS)."""
    target = path.targets.get(shape)
    ratio = result["rps"] / result["floor_beside"]
    if target is None:
        return "", ratio, ""
    text = f">= {target.ratio:.2f} of {target.floor}"
    return text, ratio, "PASS" if ratio >= target.ratio else "MISS"


def format_table(shape, floors, floor_runs, rows, rss, args):
    header = (
        f"{'path':<30} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'SQL':>4} "
        f"{'I/O floor':<19} {'ratio':>5} {'/bare':>5}  {'target':<17} {'beside':>6} {'':<4} errors"
    )
    lines = [
        f"== {servers.SHAPE_TITLES[shape]}: wrk {args.threads} threads, {args.connections} "
        f"connections, {args.duration}s per path; gunicorn {args.workers} sync workers each",
        "",
        header,
    ]
    bare = floors["bare"]["rps"]
    for name, floor in floors.items():
        row = f"{'floor: ' + FLOOR_NAMES[name]:<30} {floor['rps']:>7.0f} "
        row += f"{floor['p50_us'] / 1000:>7.2f} {floor['p99_us'] / 1000:>7.2f} "
        row += f"{floor['queries']:>4} {'':<19} {'':>5} {floor['rps'] / bare:>5.2f}"
        lines.append(row)
    for path, target, result in rows:
        if result is None:
            lines.append(f"{path.name:<30} n/a ({target['missing']})")
            continue
        errors = result["non2xx"] + result["socket_errors"]
        goal, beside, status = verdict(shape, path, result)
        row = f"{path.name:<30} {result['rps']:>7.0f} {result['p50_us'] / 1000:>7.2f} "
        row += f"{result['p99_us'] / 1000:>7.2f} {target['queries']:>4} "
        row += f"{FLOOR_NAMES[path.floor]:<19} {result['rps'] / floors[path.floor]['rps']:>5.2f} "
        row += f"{result['rps'] / bare:>5.2f}  {goal:<17} {beside:>6.2f} {status:<4} {errors or ''}"
        lines.append(row.rstrip())
    lines.append("")
    measured = {path.name: result for path, _, result in rows if result is not None}
    for path, _, result in rows:
        baseline = measured.get(path.compared_to)
        if result is not None and baseline is not None:
            # Each as a share of its floor measured beside it: the machine's drift cancels.
            first = baseline["rps"] / baseline["floor_beside"]
            second = result["rps"] / result["floor_beside"]
            change = 100 * (second - first) / first
            verdict_text = "PASS" if abs(change) <= 10 else "MISS"
            lines.append(
                f"{path.name}: {change:+.0f} % against {path.compared_to} (beside ratios "
                f"{second:.2f} and {first:.2f}; within 10 %: {verdict_text})"
            )
    spreads = []
    for name, (before, after) in floor_runs.items():
        gap = 100 * abs(before - after) / ((before + after) / 2)
        spreads.append(f"{name} {before:.0f}/{after:.0f} ({gap:.0f}% apart)")
    spreads.append("insert: once, after them")
    lines.append("floor runs before/after the paths: " + "; ".join(spreads))
    lines.append(
        "(ratio and /bare: to their mean; a large gap means a noisy machine. beside: to the"
    )
    lines.append(
        " target's floor measured again just before the path, what PASS/MISS is decided on)"
    )
    for name, sizes in rss.items():
        listed = ", ".join(f"{size:.1f}" for size in sizes)
        lines.append(f"RSS per worker ({name}): {listed} MiB")
    for path, target, result in rows:
        if result is not None and target.get("explain"):
            lines += ["", f"-- plan of {path.name}:", target["explain"]]
    return "\n".join(lines)


def run_shape(shape, args):
    """Seed, serve and load one shape; returns its table."""
    workdir = Path(tempfile.mkdtemp(prefix=f"oshara-bench-{shape}-"))
    args.workdir = workdir
    env = servers.shape_env(shape, workdir)
    print(f"bench [{shape}]: seeding in {workdir}", flush=True)
    subprocess.run(
        [sys.executable, "-m", "bench.seed", str(workdir)], env=env, check=True, cwd=servers.REPO
    )
    seeded = json.loads((workdir / "seed.json").read_text())
    project = servers.start_gunicorn(args.port, args.workers, env)
    floor_server = servers.start_gunicorn(
        args.floor_port, args.workers, servers.floor_env(env, seeded)
    )
    project_url = f"http://127.0.0.1:{args.port}"
    floor_url = f"http://127.0.0.1:{args.floor_port}"
    wanted = [part.strip() for part in args.paths.split(",") if part.strip()]
    selected = [path for path in PATHS if not wanted or any(part in path.name for part in wanted)]
    # The project again with the change feed's recorder off, when a selected path asks.
    no_events = None
    urls = {"project": project_url}
    if any(path.server == "no-events" for path in selected):
        port = args.no_events_port or args.floor_port + 1
        no_events = servers.start_gunicorn(port, args.workers, env, app=NO_EVENTS_APP)
        urls["no-events"] = f"http://127.0.0.1:{port}"
    try:
        servers.wait_until_up(project_url + "/healthz", project)
        servers.wait_until_up(floor_url + "/bare", floor_server)
        if no_events is not None:
            servers.wait_until_up(urls["no-events"] + "/healthz", no_events)
        print(f"bench [{shape}]: loading the floors", flush=True)
        before = {name: servers.measure(f"{floor_url}/{name}", args) for name in READ_FLOORS}
        rows = []
        for path, target in zip(PATHS, seeded["targets"], strict=True):
            result = None
            if wanted and not any(part in path.name for part in wanted):
                target = {**target, "missing": "not in --paths"}
            if "missing" not in target:
                # The floor again beside the path: the machine's drift over the run cancels.
                beside = servers.measure(f"{floor_url}/{target_floor(shape, path)}", args)
                print(f"bench [{shape}]: loading {path.name}", flush=True)
                base = urls[path.server]
                result = servers.measure(base + target["path"], args, target)
                result["floor_beside"] = beside["rps"]
            rows.append((path, target, result))
        print(f"bench [{shape}]: loading the floors again (noise check)", flush=True)
        after = {name: servers.measure(f"{floor_url}/{name}", args) for name in READ_FLOORS}
        print(f"bench [{shape}]: loading the INSERT floor", flush=True)
        before["insert"] = after["insert"] = servers.measure(f"{floor_url}/insert", args)
        rss = {
            "project": servers.worker_rss_mib(project),
            "floor": servers.worker_rss_mib(floor_server),
        }
    finally:
        servers.stop(project)
        servers.stop(floor_server)
        if no_events is not None:
            servers.stop(no_events)
        servers.clear_cache_keys(env)
        shutil.rmtree(workdir, ignore_errors=True)
    floors = {}
    for name in FLOOR_NAMES:
        runs = (before[name], after[name])
        floors[name] = {
            key: sum(run[key] for run in runs) / 2 for key in ("rps", "p50_us", "p99_us")
        }
        floors[name]["queries"] = {"bare": 0, "sql": 1, "cache": 0, "insert": 1}[name]
    floor_runs = {name: (before[name]["rps"], after[name]["rps"]) for name in READ_FLOORS}
    return format_table(shape, floors, floor_runs, rows, rss, args)


def main():
    args = parse_args()
    servers.require_wrk()
    started = time.monotonic()
    tables = [run_shape(shape.strip(), args) for shape in args.shapes.split(",") if shape.strip()]
    report = "\n\n".join(tables)
    report += f"\n\nmake bench took {time.monotonic() - started:.0f}s"
    print("\n" + report)
    results = servers.REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.txt").write_text(report + "\n")


if __name__ == "__main__":
    main()
