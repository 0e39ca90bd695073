"""The shell examples of a Markdown page as one bash script, for the docs stage (.ci/docs).

The convention (docs/development.md, "The docs stage"):

- Every fenced block names its language. ```sh blocks run; any other language (text, json,
  http, html, nginx, ...) is shown, never run. A bare fence, or bash/shell/console, is an
  error: it could hide a command the stage would not run.
- A page's sh blocks run in order in one bash (`set -euo pipefail`), so variables carry from
  block to block. `curl` fails on an HTTP error status (as with --fail-with-body), and
  http://127.0.0.1:8000 is the stage's own server.
- HTML comments right above a block say more about it, one per line:
    <!-- docs-check: skip (why it cannot run here) -->   the reason is required
    <!-- docs-check: expect REGEX -->                     its output must match (re.search)

    python .ci/docs_blocks.py PAGE.md [BASE_URL]   prints the script (exit 1 on a bad page)
    python .ci/docs_blocks.py --report PAGE.md     lists the page's blocks: run or skipped, why
"""

import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

DOCS_BASE_URL = "http://127.0.0.1:8000"
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<info>[^`\s]*)")
MARKER = re.compile(r"^\s*<!--\s*docs-check:\s*(?P<body>.*?)\s*-->\s*$")
SKIP = re.compile(r"^skip\s+\((?P<reason>.*\S.*)\)$")
EXPECT = re.compile(r"^expect\s+(?P<pattern>.+)$")
SHELL_NAMES_TO_AVOID = {"bash", "shell", "console", "zsh", "shell-session"}


class PageError(Exception):
    pass


@dataclass
class Block:
    where: str
    language: str
    code: str
    skip: str = ""
    expect: list = field(default_factory=list)


def markers_above(lines, index, where):
    """The docs-check markers on the lines just above line `index` (blank lines between)."""
    skip, expect = "", []
    position = index - 1
    while position >= 0 and not lines[position].strip():
        position -= 1
    while position >= 0 and (match := MARKER.match(lines[position])):
        body = match["body"]
        if skipped := SKIP.match(body):
            skip = skipped["reason"]
        elif expected := EXPECT.match(body):
            try:
                re.compile(expected["pattern"])
            except re.error as error:
                raise PageError(f"{where}: bad expect pattern: {error}") from error
            expect.insert(0, expected["pattern"])
        else:
            raise PageError(
                f"{where}: unknown marker {body!r} (use 'skip (reason)' or 'expect REGEX')"
            )
        position -= 1
    return skip, expect


def closes(line, fence):
    """A closing fence: the opening's character, at least as many times, and nothing else."""
    stripped = line.strip()
    return len(stripped) >= len(fence) and not stripped.strip(fence[0])


def blocks(path, name=None):
    name = name or str(path)
    lines = Path(path).read_text().splitlines()
    found, index = [], 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        where, opening_index = f"{name}:{index + 1}", index
        indent, fence, language = opening["indent"], opening["fence"], opening["info"].lower()
        body, index = [], index + 1
        while index < len(lines) and not closes(lines[index], fence):
            line = lines[index]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            index += 1
        if index == len(lines):
            raise PageError(f"{where}: this fence is never closed")
        index += 1
        if not language:
            raise PageError(
                f"{where}: a fence names its language (```sh runs in the docs stage; "
                "```text, ```json, ... are only shown)"
            )
        if language in SHELL_NAMES_TO_AVOID:
            raise PageError(f"{where}: write ```sh for a shell example (the stage runs sh only)")
        skip, expect = markers_above(lines, opening_index, where)
        if (skip or expect) and language != "sh":
            raise PageError(f"{where}: docs-check markers belong above ```sh blocks only")
        found.append(Block(where, language, "\n".join(body), skip, expect))
    return found


PRELUDE = r"""set -euo pipefail
# curl fails on an HTTP error status, printing the answer's body (the docs show successes).
curl() { command curl --fail-with-body --show-error "$@"; }
__docs_failed() {
  echo "docs-check: FAILED in $__where (exit $1): $2" >&2
  [ -z "${__out:-}" ] || { exec 1>&5; echo "--- its output:" >&2; cat "$__out" >&2; }
}
trap '__docs_failed $? "$BASH_COMMAND"' ERR
__docs_begin() {
  __where="$1"
  __out="$DOCS_OUTPUT/$(printf %s "$1" | tr '/:' '__').out"
  printf '\n--- %s\n' "$1"
  bash "$DOCS_WAIT_FOR_WORKER"
  exec 5>&1 1>"$__out"
}
__docs_end() {
  exec 1>&5 5>&-
  cat "$__out"
  [ ! -s "$__out" ] || [ -z "$(tail -c 1 "$__out")" ] || echo
  local pattern
  for pattern in "$@"; do
    python3 -c 'import re,sys; sys.exit(not re.search(sys.argv[2],open(sys.argv[1]).read(),re.M))' \
      "$__out" "$pattern" && continue
    echo "docs-check: FAILED in $__where: its output does not match $pattern" >&2
    exit 1
  done
  __out=""
}
"""


def script(path, base_url=DOCS_BASE_URL, name=None):
    parts = [PRELUDE]
    for block in blocks(path, name):
        if block.language != "sh" or block.skip:
            continue
        code = block.code.replace(DOCS_BASE_URL, base_url)
        parts.append(f"__docs_begin {shlex.quote(block.where)}\n{code}\n")
        parts.append(" ".join(["__docs_end", *(shlex.quote(p) for p in block.expect)]) + "\n")
    return "".join(parts)


def report(path, name=None):
    for block in blocks(path, name):
        if block.language == "sh":
            print(f"{block.where}\t{'skip: ' + block.skip if block.skip else 'run'}")


def main(argv):
    try:
        if argv[:1] == ["--report"] and len(argv) == 2:
            report(argv[1])
        elif len(argv) in (1, 2) and not argv[0].startswith("-"):
            print(script(argv[0], *argv[1:]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except PageError as error:
        print(f"docs-check: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
