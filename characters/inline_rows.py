"""A character's related rows read in its own statement, as JSON columns.

`prefetch_related` reads each relation in a query of its own: a write of one character read
it, its handoff links and its documents in three statements before it could validate (and
read all three again to answer). Here each relation is a scalar subquery of the character's
SELECT that returns its rows as one JSON array (PostgreSQL's `json_agg`, SQLite's
`json_group_array`), which `unpack()` turns back into model instances in the prefetch cache,
as `prefetch_related` would have left them: the representation reads nothing more.

Only plain columns travel this way (numbers, text, booleans, UUIDs, dates and times); each
value is converted by its model field, as a value read from the database is.
"""

import datetime
import json
import operator

from django.db.models import F, OuterRef, Subquery, TextField
from django.utils import timezone


class JSONRows(Subquery):
    """The rows of `queryset` as one JSON text column: an array of arrays, one per row,
    holding `columns` (paths from the queryset's model) in that order."""

    def __init__(self, queryset, columns):
        aliases = {f"col{index}": F(path) for index, path in enumerate(columns)}
        super().__init__(queryset.order_by().values(**aliases), output_field=TextField())
        self.aliases = list(aliases)

    def as_sql(self, compiler, connection, template=None, **extra_context):
        rows, params = super().as_sql(compiler, connection)
        columns = ", ".join(f"rows.{connection.ops.quote_name(alias)}" for alias in self.aliases)
        if connection.vendor == "postgresql":
            aggregate = f"COALESCE(json_agg(json_build_array({columns})), '[]')::text"
        else:
            aggregate = f"json_group_array(json_array({columns}))"
        return f"(SELECT {aggregate} FROM {rows} AS rows)", params


class Relation:
    """The relation `name` of `parent` (a reverse foreign key) read inline: its rows' columns
    `fields` (attnames; all of them by default), and those of the row a foreign key of each
    joins (`joined`: field name -> attnames)."""

    def __init__(self, parent, name, queryset=None, fields=None, joined=None):
        relation = parent._meta.get_field(name)
        self.name = name
        self.model = relation.related_model
        self.remote_name = relation.field.name
        self.fields = in_table_order(self.model, fields)
        self.joined = {
            field_name: in_table_order(self.model._meta.get_field(field_name).related_model, names)
            for field_name, names in (joined or {}).items()
        }
        columns = list(self.fields)
        for field_name, attnames in self.joined.items():
            columns += [f"{field_name}__{attname}" for attname in attnames]
        queryset = self.model._default_manager.all() if queryset is None else queryset
        self.expression = JSONRows(queryset.filter(**{self.remote_name: OuterRef("pk")}), columns)
        self.annotation = f"{name}_rows"

    def instances(self, parent, text, db):
        """The related instances the JSON `text` holds, in the model's order."""
        found = []
        for values in json.loads(text):
            values = iter(values)
            row = load(self.model, self.fields, values, db)
            for field_name, attnames in self.joined.items():
                related = self.model._meta.get_field(field_name).related_model
                setattr(row, field_name, load(related, attnames, values, db))
            setattr(row, self.remote_name, parent)
            found.append(row)
        return ordered(found, self.model._meta.ordering)


def in_table_order(model, attnames):
    """`attnames` (all when None) in the order of the model's columns, as from_db() takes them."""
    return tuple(
        field.attname
        for field in model._meta.concrete_fields
        if attnames is None or field.attname in attnames
    )


def load(model, attnames, values, db):
    """An instance of `model` from the next len(attnames) JSON `values`."""
    return model.from_db(db, attnames, [convert(model, name, next(values)) for name in attnames])


def convert(model, attname, value):
    """`value` as JSON held it, as the model field reads it from the database."""
    field = next(field for field in model._meta.concrete_fields if field.attname == attname)
    if value is None:
        return None
    value = field.to_python(value)
    if isinstance(value, datetime.datetime) and timezone.is_naive(value):
        # SQLite keeps UTC text without an offset (what its own converter assumes).
        value = timezone.make_aware(value, datetime.UTC)
    return value


def ordered(rows, ordering):
    """`rows` sorted by a model's Meta.ordering ("-name" descending), as its queries are."""
    for name in reversed(ordering):
        descending = name.startswith("-")
        attname = name.lstrip("-")
        attname = "pk" if attname == "id" else attname
        rows.sort(key=operator.attrgetter(attname), reverse=descending)
    return rows


def annotate(queryset, relations):
    return queryset.annotate(**{relation.annotation: relation.expression for relation in relations})


def unpack(rows, relations, db):
    """Give each row read with `annotate()` its relations' prefetch cache."""
    for row in rows:
        cache = row.__dict__.setdefault("_prefetched_objects_cache", {})
        for relation in relations:
            text = row.__dict__.pop(relation.annotation)
            cache[relation.name] = relation.instances(row, text, db)
