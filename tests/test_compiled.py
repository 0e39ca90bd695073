"""oshara/compiled.py: a compiled statement's rows are the queryset's, on either database."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Exists

from events.models import Event, WebhookEndpoint
from oshara.compiled import Compiled, CompiledInsert, as_datetime

pytestmark = pytest.mark.django_db

SCOPE = "\x00scope\x00"
SINCE = datetime(1111, 1, 1, tzinfo=UTC)


def statement(**options):
    events = Event.objects.filter(organization=SCOPE, created_at__gte=SINCE).order_by("created_at")
    events = events.values_list("id", "created_at", "data")
    return Compiled(events, {SCOPE: None, SINCE: as_datetime(events)}, **options)


def seed():
    base = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    for index, microsecond in enumerate([0, 1, 999_999]):
        Event.objects.create(
            type="character.updated",
            organization="42",
            actor_type="system",
            subject_type="character",
            subject_id=str(index),
            created_at=base + timedelta(hours=index, microseconds=microsecond),
            data={"index": index, "nested": {"list": [index, None]}},
        )
    return base


def test_rows_are_the_querysets_with_aware_times_in_utc():
    base = seed()
    expected = list(
        Event.objects.filter(organization="42", created_at__gte=base)
        .order_by("created_at")
        .values_list("id", "created_at", "data")
    )
    rows = statement().converted_rows({SCOPE: "42", SINCE: base})
    assert [tuple(row) for row in rows] == expected
    for _, created_at, _ in rows:
        assert created_at.utcoffset() == timedelta(0)
    assert [row[1].microsecond for row in rows] == [0, 1, 999_999]


def test_each_call_binds_its_own_values():
    base = seed()
    compiled = statement()
    assert compiled.converted_rows({SCOPE: "43", SINCE: base}) == []
    later = compiled.converted_rows({SCOPE: "42", SINCE: base + timedelta(minutes=90)})
    assert [row[2]["index"] for row in later] == [2]


def test_load_with_replaces_a_columns_conversion_by_the_drivers_value():
    base = seed()
    rows = statement(load_with={"data": lambda text: ("raw", text)}).converted_rows(
        {SCOPE: "42", SINCE: base}
    )
    kinds = {row[2][0] for row in rows}
    assert kinds == {"raw"}
    # The stored JSON text, whatever its spacing: the database's own.
    assert [json.loads(row[2][1])["index"] for row in rows] == [0, 1, 2]


def test_a_compiled_insert_writes_the_row_the_orm_writes():
    fields = dict(
        type="character.updated",
        organization="42",
        actor_type="user",
        actor_id="7",
        actor_label="owner@example.com",
        ip="2001:db8::1",
        request_id="req-1",
        subject_type="character",
        subject_id="9",
        data={"slug": "ada", "changed": ["name"], "ünï": "☎"},
        created_at=datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=UTC),
    )
    by_orm = Event.objects.create(**fields)
    compiled = CompiledInsert(Event, Event.objects.db).insert(Event(**fields))
    assert not compiled._state.adding
    rows = Event.objects.filter(pk__in=[by_orm.pk, compiled.pk]).values()
    by_id = {row.pop("id"): row for row in rows}
    assert by_id[compiled.pk] == by_id[by_orm.pk] and by_id[compiled.pk]["ip"] == "2001:db8::1"


@pytest.mark.parametrize("returns", [True, False], ids=["RETURNING", "read back"])
def test_a_computed_column_is_set_on_the_instance_with_or_without_returning(returns, monkeypatch):
    """The event's `dispatched` is computed by its INSERT; a SQLite older than 3.35 has no
    RETURNING, and the row is read back instead."""
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", returns)
    endpoints = WebhookEndpoint.objects.filter(organization=SCOPE, is_active=True)
    insert = CompiledInsert(
        Event,
        Event.objects.db,
        computed={"dispatched": ~Exists(endpoints)},
        stand_ins={SCOPE: None},
        returning="dispatched",
    )
    assert ("RETURNING" in insert.sql) is returns
    WebhookEndpoint.objects.create(organization="42", url="https://hooks.example.com/", secret="s")
    fields = dict(type="t", actor_type="system", subject_type="character", subject_id="1")
    wanted = insert.insert(Event(organization="42", **fields), {SCOPE: "42"})
    unwanted = insert.insert(Event(organization="43", **fields), {SCOPE: "43"})
    assert wanted.dispatched is False and unwanted.dispatched is True
    stored = dict(Event.objects.values_list("pk", "dispatched"))
    assert stored == {wanted.pk: False, unwanted.pk: True}
