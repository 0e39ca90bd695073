"""A compiled `to_representation`: DRF's output, byte for byte, without DRF's per-request cost.

Profiling showed that reading characters spends most of its serializer time building fields
(ModelSerializer.get_fields runs on every request) and walking them generically for every
object of a list. `FastRepresentationMixin` compiles, once per serializer class, a plan from a
template instance: for every readable field, a getter and a converter equivalent to DRF's
`Field.get_attribute` + `Field.to_representation` (skip on SkipField, None stays None).

Only field types whose `to_representation` is DRF's own and needs no context are compiled;
files get the request passed explicitly. Anything else (a custom field, a serializer with its
own `get_fields`) falls back to the live field of the request's serializer, so the output is
always exactly what DRF would produce; `fallback_paths()` lists such fields.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model
from django.db.models.manager import BaseManager
from rest_framework import fields as drf_fields
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

# Field types whose own to_representation depends on nothing but the value.
_CONTEXT_FREE = {
    cls.to_representation
    for cls in (
        drf_fields.BigIntegerField,
        drf_fields.BooleanField,
        drf_fields.CharField,
        drf_fields.ChoiceField,
        drf_fields.DateField,
        drf_fields.DateTimeField,
        drf_fields.DecimalField,
        drf_fields.FloatField,
        drf_fields.IntegerField,
        drf_fields.JSONField,
        drf_fields.ReadOnlyField,
        drf_fields.TimeField,
        drf_fields.UUIDField,
    )
}
_DEFAULT_GET_FIELDS = {serializers.Serializer.get_fields, serializers.ModelSerializer.get_fields}


class _Context:
    """What a plan needs from the live serializer: the request, and its fields as a fallback."""

    __slots__ = ("request", "root")

    def __init__(self, root):
        self.root = root
        self.request = root.context.get("request")

    def field_at(self, path):
        node = self.root
        for name in path:
            if isinstance(node, serializers.ListSerializer):
                node = node.child
            node = node.fields[name]
        return node


def _getter(field):
    """DRF's Field.get_attribute, short-cut for a plain attribute of a model instance.

    Anything else (dotted sources, mappings, callables, missing attributes) goes through the
    template field's own get_attribute, which needs no context.
    """
    source_attrs = field.source_attrs
    if len(source_attrs) != 1:
        return field.get_attribute
    attr = source_attrs[0]

    def get(instance):
        if isinstance(instance, Model):
            # A prefetched relation: what its manager's .all() would return, minus the manager.
            prefetched = instance.__dict__.get("_prefetched_objects_cache")
            if prefetched is not None and attr in prefetched:
                return prefetched[attr]
            try:
                value = getattr(instance, attr)
            except ObjectDoesNotExist:
                return None
            except AttributeError:
                return field.get_attribute(instance)  # DRF's default/allow_null/SkipField rules
            if not callable(value):
                return value
        return field.get_attribute(instance)

    return get


def _file_converter(field):
    """DRF's FileField.to_representation with the request passed in, not read from context."""
    use_url = getattr(field, "use_url", serializers.api_settings.UPLOADED_FILES_USE_URL)

    def convert(value, ctx):
        if not value:
            return None
        if not use_url:
            return value.name
        try:
            url = value.url
        except AttributeError:
            return None
        return ctx.request.build_absolute_uri(url) if ctx.request is not None else url

    return convert


def _converter(field, path, fallbacks):
    """A `convert(value, ctx)` for a non-None value, or None when the field must fall back."""
    method = type(field).to_representation
    if isinstance(field, serializers.ListSerializer):
        if method is not serializers.ListSerializer.to_representation:
            return None
        child = _compile(field.child, path, fallbacks)
        if child is None:
            return None

        def convert_many(value, ctx):
            items = value.all() if isinstance(value, BaseManager) else value
            return [child(item, ctx) for item in items]

        return convert_many
    if isinstance(field, serializers.BaseSerializer):
        nested = _compile(field, path, fallbacks)
        return None if nested is None else nested
    if isinstance(field, drf_fields.FileField):
        if method is drf_fields.FileField.to_representation:
            return _file_converter(field)
        return None
    if isinstance(field, drf_fields.ListField):
        child = _converter(field.child, path, fallbacks)
        if method is not drf_fields.ListField.to_representation or child is None:
            return None
        return lambda value, ctx: [None if item is None else child(item, ctx) for item in value]
    if getattr(field, "context_free_representation", False):
        return lambda value, ctx: field.to_representation(value)
    if method is drf_fields.CharField.to_representation:
        return lambda value, ctx: value if type(value) is str else str(value)
    if method in _CONTEXT_FREE:
        to_representation = field.to_representation
        return lambda value, ctx: to_representation(value)
    return None


def _live_step(name, path):
    """DRF's own per-field code, on the live field of the request's serializer."""

    def step(instance, ctx, ret):
        field = ctx.field_at(path)
        try:
            value = field.get_attribute(instance)
        except SkipField:
            return
        check = value.pk if isinstance(value, PKOnlyObject) else value
        ret[name] = None if check is None else field.to_representation(value)

    return step


def _compiled_step(name, get, convert):
    def step(instance, ctx, ret):
        try:
            value = get(instance)
        except SkipField:
            return
        ret[name] = None if value is None else convert(value, ctx)

    return step


def _compile(serializer, path, fallbacks):
    """`represent(instance, ctx)` for a serializer, or None when it cannot be compiled."""
    if (
        type(serializer).to_representation is not serializers.Serializer.to_representation
        and type(serializer).to_representation is not FastRepresentationMixin.to_representation
    ):
        # A custom to_representation that uses nothing but its argument is safe to call.
        code = type(serializer).to_representation.__code__
        if code.co_names or code.co_argcount != 2:
            return None
        custom = serializer.to_representation
        return lambda instance, ctx: custom(instance)
    if type(serializer).get_fields not in _DEFAULT_GET_FIELDS:
        return None
    steps = []
    for field in serializer._readable_fields:
        field_path = (*path, field.field_name)
        convert = _converter(field, field_path, fallbacks)
        if convert is None:
            fallbacks.append(".".join(field_path))
            steps.append(_live_step(field.field_name, field_path))
        else:
            steps.append(_compiled_step(field.field_name, _getter(field), convert))

    def represent(instance, ctx):
        ret = {}
        for step in steps:
            step(instance, ctx, ret)
        return ret

    return represent


_plans = {}


def plan_for(serializer_class):
    """(represent, fallback field paths) for a class, compiled on first use."""
    if serializer_class not in _plans:
        fallbacks = []
        represent = _compile(serializer_class(), (), fallbacks)
        _plans[serializer_class] = (represent, fallbacks)
    return _plans[serializer_class]


def fallback_paths(serializer_class):
    """Fields that are served by DRF's generic code on each request (slower, still exact)."""
    represent, fallbacks = plan_for(serializer_class)
    return ["*"] if represent is None else fallbacks


class FastRepresentationMixin:
    """Serialises with the compiled plan of the class; identical output to DRF's."""

    def to_representation(self, instance):
        represent = plan_for(type(self))[0]
        if represent is None:
            return super().to_representation(instance)
        ctx = self.__dict__.get("_fast_context")
        if ctx is None:
            ctx = self.__dict__["_fast_context"] = _Context(self)
        return represent(instance, ctx)
