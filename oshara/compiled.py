"""A queryset compiled to SQL once, run many times with each call's values.

Building and compiling a queryset costs ~0.5 to 1 ms per request (measured: a character read
in characters/api/versions.py, a page of the audit log in events/selectors.py), running the
compiled statement a tenth of that, and on the hot read paths the statement is the whole
cost of the request's data. So those paths compile each shape of query once, with stand-in
values where each call's go, and bind the call's values in their place.

A stand-in is a value no caller can send (a NUL in a string, a far-off number or time). The
ORM may pass a value on in another form than it was given (a `startswith` pattern, a time
adapted for SQLite): `Compiled` is told how, so that it finds the stand-in in the compiled
parameters and prepares each call's value the same way.
"""

import functools

from django.conf import settings
from django.db import connections
from django.db.models.sql import InsertQuery
from psycopg.types.datetime import TimestamptzLoader

PRIMARY_KEY = "\x00primary key\x00"  # the stand-in of a row read back after its INSERT


def as_given(value):
    return value


def like_prefix(queryset):
    """How the ORM passes a `startswith` value to the database of `queryset`."""
    operations = connections[queryset.db].ops
    return lambda value: f"{operations.prep_for_like_query(value)}%"


def as_datetime(queryset):
    """How the ORM passes a DateTimeField's value to the database of `queryset`."""
    return connections[queryset.db].ops.adapt_datetimefield_value


class Parameters:
    """A compiled statement's parameters, where each stand-in (`stand_ins`: {stand-in: how the
    ORM passes it, or None}) is to take a call's value, prepared the same way."""

    def __init__(self, params, stand_ins):
        passed = []
        for stand_in, prepare in stand_ins.items():
            prepare = prepare or as_given
            passed.append((prepare(stand_in), stand_in, prepare))
        # Each parameter: (None, its value), or (a stand-in, how to prepare a call's value).
        self.params = [self.find(param, passed) for param in params]

    @staticmethod
    def find(param, passed):
        for form, stand_in, prepare in passed:
            if type(param) is type(form) and param == form:
                return stand_in, prepare
        return None, param

    def bind(self, values):
        """The parameters for this call: `values` maps each stand-in to its value."""
        return [
            param if stand_in is None else param(values[stand_in])
            for stand_in, param in self.params
        ]


class Compiled:
    """`queryset`'s SQL with `stand_ins` ({stand-in: how the ORM passes it, or None}) to be
    replaced by each call's values, and the ORM's conversions of its rows: for a column named
    in `load_with` ({attname: function}), the function of the value the driver gives instead
    (the text of a JSON column, say, to embed in a response as it is)."""

    def __init__(self, queryset, stand_ins, *, load_with=None):
        self.using = queryset.db
        self.compiler = queryset.query.get_compiler(self.using)
        self.sql, params = self.compiler.as_sql()
        self.converters = self.row_converters(load_with or {})
        self.params = Parameters(params, stand_ins)

    def row_converters(self, load_with):
        """The compiler's converters of the selected columns (as results_iter() finds them on
        every call), with `load_with`'s functions in place of a column's own."""
        compiler = self.compiler
        selected = [column for column, _, _ in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(selected)
        for position, column in enumerate(selected):
            function = load_with.get(getattr(getattr(column, "target", None), "attname", None))
            if function is not None:
                converters[position] = ([lambda value, *_, load=function: load(value)], column)
        return converters

    def bind(self, values):
        """The parameters for this call: `values` maps each stand-in to its value."""
        return self.params.bind(values)

    def rows(self, values):
        """The rows as the database driver gives them."""
        connection = connections[self.using]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql" and settings.USE_TZ:
                load_times_in_c(cursor)
            cursor.execute(self.sql, self.bind(values))
            return cursor.fetchall()

    def converted_rows(self, values):
        """The rows, as lists, as the queryset would give them (its fields' conversions
        applied: JSON decoded, times made aware), by the compiler's own apply_converters()."""
        rows = self.rows(values)
        if not self.converters:
            return [list(row) for row in rows]
        return list(self.compiler.apply_converters(rows, self.converters))


class CompiledInsert:
    """An INSERT of one row of `model`, its SQL compiled once: each call's values are prepared
    as the ORM prepares them (SQLInsertCompiler.pre_save_val and prepare_value), without the
    statement built and compiled again. Like bulk_create(), it sends no signal: for a model
    nothing listens to, written on a hot path (an event, in every change's transaction:
    building its INSERT was two thirds of the event's cost on SQLite, bench/README.md).

    `computed` ({attname: expression}): columns the database computes in the same statement,
    with `stand_ins` (as Compiled's) in the expressions for each call's values; `returning`:
    the attname of a column the statement returns (RETURNING; a SQLite older than 3.35 has
    none, and the row is read back), set on the instance."""

    def __init__(self, model, using, *, computed=None, stand_ins=None, returning=None):
        computed = computed or {}
        self.using = using
        fields = model._meta.local_concrete_fields
        self.fields = [field for field in fields if field.attname not in computed]
        query = InsertQuery(model)
        query.insert_values(
            self.fields + [model._meta.get_field(name) for name in computed], [model(**computed)]
        )
        compiler = query.get_compiler(using)
        self.returning = model._meta.get_field(returning) if returning else None
        self.read_back = None
        if self.returning is not None:
            if compiler.connection.features.can_return_columns_from_insert:
                compiler.returning_fields = [self.returning]
                column = self.returning.get_col(model._meta.db_table)
                self.converters, self.compiler = compiler.get_converters([column]), compiler
            else:
                row = model._default_manager.db_manager(using).filter(pk=PRIMARY_KEY)
                self.read_back = Compiled(row.values_list(returning), {PRIMARY_KEY: None})
        [(self.sql, params)] = compiler.as_sql()
        # The computed columns come last, their expressions' parameters after the plain ones.
        self.computed = Parameters(params[len(self.fields) :], stand_ins or {})

    def insert(self, instance, values=None):
        """Write `instance` (its primary key already set) and mark it saved; `values` maps the
        computed columns' stand-ins to this call's values."""
        connection = connections[self.using]
        params = [
            field.get_db_prep_save(field.pre_save(instance, True), connection)
            for field in self.fields
        ]
        params += self.computed.bind(values or {})
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            if self.returning is not None and self.read_back is None:
                [row] = self.compiler.apply_converters([cursor.fetchone()], self.converters)
        if self.read_back is not None:
            [row] = self.read_back.converted_rows({PRIMARY_KEY: instance.pk})
        if self.returning is not None:
            setattr(instance, self.returning.attname, row[0])
        instance._state.adding, instance._state.db = False, self.using
        return instance


def load_times_in_c(cursor):
    """psycopg's own timestamptz loader, in C, on this PostgreSQL cursor. Django registers a
    Python subclass of it on each connection, to set the connection's time zone on each
    value; it took half the time of fetching an audit log page's 51 rows (0.37 ms against
    0.17: bench/README.md). Django has set the session's TimeZone to that same zone
    (DatabaseWrapper._configure_timezone), so PostgreSQL sends each time in it and psycopg
    gives the same aware datetime (tests/test_compiled.py)."""
    cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)


@functools.cache
def columns(model):
    """The attnames of `model`'s concrete fields, in the order the ORM selects them."""
    return tuple(field.attname for field in model._meta.concrete_fields)


def instance(model, values):
    """`model` built from the first columns(model) of the row `values` (a list: they are
    removed from it), as the ORM builds a selected or select_related model."""
    count = len(columns(model))
    taken = values[:count]
    del values[:count]
    return model.from_db(model.objects.db, columns(model), taken)
