"""The paths `make bench` measures: adding one is adding one entry to PATHS.

Each entry names the request (method, URL, headers, body: `{placeholders}` are filled from
the seeded context, see bench/seed.py), the floor that does the same unavoidable I/O as the
path (`bare`: none, `sql`: one indexed SELECT, `cache`: one cache GET, `insert`: one durable
INSERT; see bench/floor_urls.py) and a target per shape: the least requests/s the path must
reach as a share of one of the floors (not always its I/O floor), measured in the same run.
A path whose route does not exist on this tree is printed as missing; `prepare(context)` may
seed what the path needs and return more placeholders (an API key, a form, documents).
"""

from dataclasses import dataclass, field
from functools import partial

from bench import prepare

# The two shapes: a laptop (SQLite + in-process cache) and production (PostgreSQL + Redis).
SQLITE, POSTGRES = "sqlite", "postgres"


@dataclass(frozen=True)
class Target:
    floor: str  # "bare", "sql", "cache" or "insert"
    ratio: float  # requests/s of the path over that floor's, at least


@dataclass(frozen=True)
class BenchPath:
    name: str
    url: str
    floor: str  # the floor with the same I/O
    targets: dict = field(default_factory=dict)  # shape -> Target
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    body: str | None = None
    status: int = 200
    expect_items: str | None = None  # the context value that is the JSON array's length
    prepare: object = None  # callable(context) -> dict of more placeholders, or None
    # The context's list of slugs the URL's {slug} takes in turn (bench/report.lua), each
    # request's body with "{unique}" replaced by a value no other request sends.
    spread: str | None = None
    # "project", or "no-events": the project with the change feed's recorder switched off
    # (bench/no_events_wsgi.py).
    server: str = "project"
    # The name of the path this one's requests/s is shown as a share of (same floor).
    compared_to: str | None = None
    # callable(context) -> the plan of the path's statements, printed under the table.
    explain: object = None

    def render(self, context):
        """(url, headers, body) with the placeholders filled."""
        headers = {name: value.format(**context) for name, value in self.headers.items()}
        body = None if self.body is None else self.body.format(**context)
        return self.url.format(**context), headers, body

    def urls(self, context):
        """The URLs a spread path takes in turn (None when it has one)."""
        if self.spread is None:
            return None
        return [self.url.format(**{**context, "slug": slug}) for slug in context[self.spread]]


JWT = {"Authorization": "Bearer {token}"}
API_KEY = {"X-API-Key": "{api_key}"}
ORIGIN = {"Origin": "{origin}"}
RETRIEVE_TARGETS = {POSTGRES: Target("sql", 0.40), SQLITE: Target("bare", 0.35)}
APPEARANCE_TARGETS = {POSTGRES: Target("cache", 0.85), SQLITE: Target("bare", 0.80)}
# Issue 31: a one-field PATCH against the floor that writes one durable row.
PATCH_TARGETS = {POSTGRES: Target("insert", 0.15), SQLITE: Target("insert", 0.10)}
PATCH_WITHOUT_EVENTS = "PATCH (no events)"
# Every request a new greeting: a PATCH that changes something records a version.
HISTORY_FIRST = "versions: page 1 (10,000)"
PATCH_BODY = '{{"greeting": "Hello again, {{unique}}"}}'

PATHS = [
    BenchPath(
        "retrieve by slug (JWT)",
        "/api/ai-characters/{slug}/",
        floor="sql",
        headers=JWT,
        targets=RETRIEVE_TARGETS,
    ),
    BenchPath(
        "list of 100 (JWT)",
        "/api/ai-characters/",
        floor="sql",
        headers=JWT,
        expect_items="character_count",
        targets={POSTGRES: Target("sql", 0.20), SQLITE: Target("bare", 0.10)},
    ),
    BenchPath(
        "appearance (Origin)",
        "/api/agents/{slug}/appearance/",
        floor="cache",
        headers=ORIGIN,
        targets=APPEARANCE_TARGETS,
    ),
    BenchPath(
        "appearance (manual, published)",
        "/api/agents/{manual_slug}/appearance/",
        floor="cache",
        headers=ORIGIN,
        targets=APPEARANCE_TARGETS,
        prepare=prepare.manual_published,
    ),
    BenchPath(
        "retrieve by slug (X-API-Key)",
        "/api/ai-characters/{slug}/",
        floor="sql",
        headers=API_KEY,
        targets=RETRIEVE_TARGETS,
        prepare=prepare.api_key,
    ),
    BenchPath(
        "session start (Origin)",
        "/api/agents/agent-session/",
        floor="insert",
        method="POST",
        headers=ORIGIN,
        body="{session_body}",
        # Issue 30 set it against the floor with the same I/O (one durable INSERT).
        targets={POSTGRES: Target("insert", 0.25), SQLITE: Target("bare", 0.25)},
        prepare=prepare.session_start,
    ),
    BenchPath(
        "form submission (Origin)",
        "/api/agents/{slug}/form-responses/",
        floor="insert",
        method="POST",
        headers=ORIGIN,
        body="{form_body}",
        status=201,
        targets={POSTGRES: Target("sql", 0.30), SQLITE: Target("bare", 0.25)},
        prepare=prepare.form_submission,
    ),
    BenchPath(
        "knowledge search (20k chunks)",
        "/api/knowledge-base/query/?{kb_query}",
        floor="sql",
        headers={"X-API-Key": "{kb_key}"},
        expect_items="kb_top_k",
        targets={POSTGRES: Target("sql", 0.10), SQLITE: Target("bare", 0.05)},
        prepare=prepare.knowledge_chunks,
    ),
    BenchPath(
        "PATCH a character (JWT)",
        "/api/ai-characters/{slug}/",
        floor="insert",
        method="PATCH",
        headers=JWT,
        body=PATCH_BODY,
        spread="slugs",
        targets=PATCH_TARGETS,
        # Issue 32: the outbox adds at most one INSERT, within 10 % of the PATCH without it.
        compared_to=PATCH_WITHOUT_EVENTS,
    ),
    BenchPath(
        PATCH_WITHOUT_EVENTS,
        "/api/ai-characters/{slug}/",
        floor="insert",
        method="PATCH",
        headers=JWT,
        body=PATCH_BODY,
        spread="slugs",
        server="no-events",
    ),
    BenchPath(
        HISTORY_FIRST,
        "/api/ai-characters/{history_slug}/versions/?limit={history_limit}",
        floor="sql",
        headers=JWT,
        expect_items="history_limit",
        prepare=prepare.long_history,
        explain=partial(prepare.explain_history, deep=False),
    ),
    BenchPath(
        "versions: deep page (10,000)",
        "/api/ai-characters/{history_slug}/versions/?limit={history_limit}&offset={history_deep}",
        floor="sql",
        headers=JWT,
        expect_items="history_limit",
        # Issue 31: page 1 and a deep page within 10 % of each other.
        compared_to=HISTORY_FIRST,
        explain=partial(prepare.explain_history, deep=True),
    ),
]

# `make bench-scale`: the same reads at 100 characters and at 100,000 (bench/scale.py). The
# deep page is the last one at 100 characters (offset 80) and offset 5,000 at scale.
SCALE_PATHS = [
    PATHS[0],
    BenchPath(
        "list limit=20 offset=0",
        "/api/ai-characters/?limit=20&offset=0",
        floor="sql",
        headers=JWT,
    ),
    BenchPath(
        "list limit=20 deep offset",
        "/api/ai-characters/?limit=20&offset={deep_offset}",
        floor="sql",
        headers=JWT,
    ),
    PATHS[2],
]
TABLES = {"default": PATHS, "scale": SCALE_PATHS}
