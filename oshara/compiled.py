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

from django.db import connections


def as_given(value):
    return value


def like_prefix(queryset):
    """How the ORM passes a `startswith` value to the database of `queryset`."""
    operations = connections[queryset.db].ops
    return lambda value: f"{operations.prep_for_like_query(value)}%"


def as_datetime(queryset):
    """How the ORM passes a DateTimeField's value to the database of `queryset`."""
    return connections[queryset.db].ops.adapt_datetimefield_value


class Compiled:
    """`queryset`'s SQL with `stand_ins` ({stand-in: how the ORM passes it, or None}) to be
    replaced by each call's values, and the ORM's conversions of its rows."""

    def __init__(self, queryset, stand_ins):
        self.using = queryset.db
        self.compiler = queryset.query.get_compiler(self.using)
        self.sql, params = self.compiler.as_sql()
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

    def rows(self, values):
        """The rows as the database driver gives them."""
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, self.bind(values))
            return cursor.fetchall()

    def converted_rows(self, values):
        """The rows as the queryset would give them (its fields' conversions applied: JSON
        decoded, times made aware), by the compiler's own results_iter()."""
        return list(self.compiler.results_iter(results=[self.rows(values)]))


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
