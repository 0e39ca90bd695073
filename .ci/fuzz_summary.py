"""Requests per operation and status, from the fuzz server's access log (used by .ci/fuzz).

    python .ci/fuzz_summary.py ACCESS_LOG SCHEMA_JSON [--from LINE] [--accepted]

--from counts only the log from that line on (one pass of several); --accepted prints, per
operation, how many requests got a 2xx.
"""

import argparse
import collections
import json
import re


def count(log_path, schema_path, first_line):
    with open(schema_path) as handle:
        paths = json.load(handle)["paths"]
    templates = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in paths]
    counts = collections.defaultdict(collections.Counter)
    with open(log_path, errors="replace") as handle:
        for line in itertools_from(handle, first_line):
            method, _, rest = line.strip().partition(" ")
            path, _, status = rest.rpartition(" ")
            template = next((t for rx, t in templates if rx.match(path)), None)
            if template and method.lower() in paths[template]:
                counts[f"{method} {template}"][status] += 1
    return counts


def itertools_from(lines, first_line):
    for number, line in enumerate(lines):
        if number >= first_line:
            yield line


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("log")
    parser.add_argument("schema")
    parser.add_argument("--from", dest="first_line", type=int, default=0)
    parser.add_argument("--accepted", action="store_true")
    args = parser.parse_args()
    counts = count(args.log, args.schema, args.first_line)
    if args.accepted:
        print("\n=== positive mode: generated requests answered 2xx, per operation")
        for operation, statuses in sorted(counts.items()):
            total = sum(statuses.values())
            accepted = sum(n for code, n in statuses.items() if code.startswith("2"))
            print(f"{accepted:6d} / {total:<6d} {100 * accepted / total:5.1f} %  {operation}")
        return
    print("\n=== requests per operation (status: count)")
    for operation, statuses in sorted(counts.items()):
        detail = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
        print(f"{sum(statuses.values()):6d}  {operation}  ({detail})")


if __name__ == "__main__":
    main()
