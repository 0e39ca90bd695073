"""Reads on API keys."""

import functools

from django.db.models import F

from accounts.api_keys import keys
from accounts.api_keys.models import ApiKey
from oshara.compiled import Compiled, columns, instance

PREFIX = "\x00prefix\x00"  # the stand-in for the key's prefix in the compiled look-up


def active_key(raw):
    """The active key `raw` of an active user who is still a member of the key's
    organization, with that user, the organization and the user's role there
    (`creator_role`), in one indexed query; or None."""
    if not keys.is_well_formed(raw):
        return None
    rows = key_statement().converted_rows({PREFIX: keys.lookup_prefix(raw)})
    if not rows:
        return None
    api_key = with_relations(rows[0])
    return api_key if keys.matches(raw, api_key.hashed_key) else None


RELATIONS = ("user", "organization")


@functools.cache
def key_statement():
    """Every request a key makes runs it: compiled once (oshara/compiled.py), it costs a
    fraction of building it (bench: retrieve by X-API-Key). The role comes through a join on
    the membership (unique per user and organization), not a subquery."""
    related = [
        f"{name}__{attname}"
        for name in RELATIONS
        for attname in columns(ApiKey._meta.get_field(name).related_model)
    ]
    candidates = ApiKey.objects.filter(
        prefix=PREFIX,
        is_active=True,
        user__is_active=True,
        user__memberships__organization_id=F("organization_id"),
    ).order_by()
    rows = candidates.values_list(*columns(ApiKey), *related, "user__memberships__role")
    return Compiled(rows[:1], {PREFIX: None})


def with_relations(row):
    """The key of a key_statement() row, with its user, organization and creator_role."""
    values = list(row)
    api_key = instance(ApiKey, values)
    for name in RELATIONS:
        setattr(api_key, name, instance(ApiKey._meta.get_field(name).related_model, values))
    (api_key.creator_role,) = values
    return api_key


def keys_of(organization_id):
    """The organization's keys, whoever created them (managing them takes an admin)."""
    return ApiKey.objects.filter(organization_id=organization_id)
