"""Character reads (retrieve and list) served from rendered bytes kept in the worker process.

A read runs one small SQL statement: the key of the acting organization's character with that
slug, or of each character of its list page (same filter, order, limit and offset, with the
total), and only while the token's user is an active member of it (characters/api/versions.py;
the organization X-Organization names, else the user's default; an API key's own). The rendered JSON
of each character is then looked up in a per-process LRU bounded by READ_CACHE_MAX_BYTES,
keyed by (key, scheme, host): image and file URLs are absolute. A miss is built by the normal
view and serializer code (so the bytes are the same) and stored under the key read before
building it: the stored body is never older than its key. The ETag is the key's, so it is the
same through every host name, and If-None-Match is answered before any body is built.

Why this is safe across worker processes: an entry is never invalidated, it just stops being
asked for. Everything that changes what a character's representation shows changes its key in
the change's own transaction, so a request whose key names the old version was answered before
the change committed, and every later request reads the new key.

Whatever the fast path cannot answer identically falls back to the normal view: no row found
(404, the 401 of a deactivated or deleted user, an empty list or page), a user loaded the
usual way (neither SimpleJWT's TokenUser nor an API key's user), other renderers or an
indented rendering, `?search=` or an unknown `character_type` on the list.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework_simplejwt.settings import api_settings

from accounts.organizations.acting import (
    OrganizationCredential,
    acting_organization,
    requested_slug,
)
from characters.api import positions, versions
from characters.api.authentication import is_token_user
from characters.api.lru import ENTRY_OVERHEAD_BYTES, LRU
from characters.models import CharacterType
from oshara.http.conditional import evaluate_preconditions

__all__ = ["ENTRY_OVERHEAD_BYTES", "LRU", "entries", "list_page", "retrieve"]

LIST_PARAMETERS = {"limit", "offset", "character_type"}

entries = LRU(settings.READ_CACHE_MAX_BYTES)


class PrerenderedResponse(Response):
    """A DRF response whose body is already rendered (by the same renderer, earlier)."""

    def __init__(self, body, **kwargs):
        super().__init__(data=None, **kwargs)
        self.prerendered = body

    @property
    def rendered_content(self):
        renderer = self.accepted_renderer
        content_type = self.content_type
        if content_type is None:
            charset = renderer.charset
            media_type = renderer.media_type
            content_type = f"{media_type}; charset={charset}" if charset else media_type
        self["Content-Type"] = content_type
        return self.prerendered


def cacheable_scope(request):
    """(scope, values) of versions' statements when this read can be answered from the
    cache, else None."""
    if request.method not in ("GET", "HEAD"):
        return None
    renderer = getattr(request, "accepted_renderer", None)
    if type(renderer) is not JSONRenderer:
        return None
    if renderer.get_indent(request.accepted_media_type, {}) is not None:
        return None
    if isinstance(request.auth, OrganizationCredential):
        # The key, its creator and their membership were read by its authentication's query.
        acting = acting_organization(request)
        return versions.KNOWN, {versions.ORGANIZATION: acting.organization_id}
    if not is_token_user(request.user):
        return None
    pk = get_user_model()._meta.pk
    if pk.attname != api_settings.USER_ID_FIELD:
        return None
    try:
        user_id = pk.to_python(request.user.id)
    except ValidationError:
        return None
    slug = requested_slug(request)
    if slug is None:
        return versions.DEFAULT, {versions.USER: user_id}
    return versions.NAMED, {versions.USER: user_id, versions.ORGANIZATION_SLUG: slug}


# (user id, X-Organization slug or None) -> the organization its statement's rows belonged to
# last: what the list positions' cache key names. Learnt from the rows, never looked up (no
# query), and only a guess the next statements check (versions.OtherOrganization): the
# membership, a changed default, are decided by the statement itself.
acting_organization_ids = {}
ACTING_ORGANIZATION_IDS_MAX = 10_000


def paged_keys(cacheable, character_type, limit, offset):
    """A paged list's keys and total: through the organization's list positions once its id
    is known in this process, else by the plain statement, whose rows tell it (a long list
    then builds its positions at once, for the next pages)."""
    if positions.shared_cache() is None:  # no positions to key: the plain statement
        return versions.find_page(*cacheable, character_type, limit, offset)
    scope, values = cacheable
    reader = None if scope == versions.KNOWN else reader_of(values)
    organization_id = (
        values[versions.ORGANIZATION] if reader is None else acting_organization_ids.get(reader)
    )
    if organization_id is not None:
        try:
            return positions.find_page(*cacheable, organization_id, character_type, limit, offset)
        except versions.OtherOrganization:
            acting_organization_ids.pop(reader, None)
    keys, total = versions.find_page(*cacheable, character_type, limit, offset)
    if keys.organization_id is None:
        return keys, total
    if len(acting_organization_ids) >= ACTING_ORGANIZATION_IDS_MAX:
        acting_organization_ids.clear()
    acting_organization_ids[reader] = keys.organization_id
    if total is not None and total >= positions.LONG_LIST:
        return paged_keys(cacheable, character_type, limit, offset)
    return keys, total


def reader_of(values):
    return values[versions.USER], values.get(versions.ORGANIZATION_SLUG)


def site_of(request):
    """What absolute URLs in a body depend on. Once per request: get_host() validates the
    host against ALLOWED_HOSTS, 8 % of a list of 100 when it ran per character (profile)."""
    return request.scheme, request.get_host()


def store(site, key, data):
    """Render one character's representation and keep it under the key read *before* it was
    built (so what is stored is never older than its key); returns the body."""
    body = JSONRenderer().render(data)
    entries.put((*key, *site), body)
    return body


def retrieve(view, request, build):
    """The character as `build()` (DRF's retrieve) renders it, with its ETag; a 304 when
    If-None-Match names it."""
    cacheable = cacheable_scope(request)
    fast = cacheable is not None
    found = versions.find_one(*cacheable, view.kwargs[view.lookup_field]) if fast else ()
    key = found[0] if found else None
    if key is not None:
        view.proven_organization_id = found.organization_id
    else:
        fast = False
        instance = view.get_object()  # the usual 404 or 401
        key = versions.find_pk(instance.pk)
        if key is None:  # deleted since
            raise Http404
    etag = versions.etag(key)
    not_modified = evaluate_preconditions(request, etag)
    if not_modified is not None:
        return not_modified
    site = site_of(request) if fast else None
    body = entries.get((*key, *site)) if fast else None
    if body is not None:
        return PrerenderedResponse(body, headers={"ETag": etag})
    response = build()
    if fast and response.status_code == 200:
        store(site, key, response.data)
    response["ETag"] = etag
    return response


def list_page(view, request, build):
    """The list (or page) as `build()` (DRF's list) renders it, from cached bodies."""
    params = request.query_params
    character_type = params.get("character_type")
    cacheable = cacheable_scope(request)
    if (
        cacheable is None
        or not set(params) <= LIST_PARAMETERS
        or (character_type not in (None, "") and character_type not in CharacterType.values)
    ):
        return build()
    paginator = view.paginator
    limit = paginator.get_limit(request) if paginator is not None else None
    # Checked even without a limit: a bad offset is a 400 (it only pages with a limit).
    offset = paginator.get_offset(request) if paginator is not None else 0
    if limit is None:
        keys, total = versions.find_page(*cacheable, character_type, limit, offset)
    else:
        keys, total = paged_keys(cacheable, character_type, limit, offset)
    view.proven_organization_id = getattr(keys, "organization_id", None)
    bodies = page_bodies(view, request, keys) if keys else None
    if bodies is None:  # empty, or a character went away meanwhile
        return build()
    headers = None
    if limit is not None:
        paginator.request, paginator.limit, paginator.offset = request, limit, offset
        paginator.count = total
        headers = paginator.page_headers()
    return PrerenderedResponse(b"[" + b",".join(bodies) + b"]", headers=headers)


def page_bodies(view, request, keys):
    site = site_of(request)
    found = {key[0]: entries.get((*key, *site)) for key in keys}
    missing = {key[0]: key for key in keys if found[key[0]] is None}
    if missing:
        instances = list(view.get_queryset().filter(pk__in=missing))
        if len(instances) != len(missing):
            return None
        data = view.get_serializer(instances, many=True).data
        for instance, item in zip(instances, data, strict=True):
            found[instance.pk] = store(site, missing[instance.pk], item)
    return [found[key[0]] for key in keys]
