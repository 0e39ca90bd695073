"""Character reads (retrieve and list) served from rendered bytes kept in the worker process.

A read runs one small SQL statement: the key of the caller's character with that slug, or of
each character of the caller's list page (same filter, order, limit and offset, with the
total), and only while the owner is active. A key is the character's id and revision and its
handoff links with their targets' revisions (see characters/revisions.py). The rendered JSON
of each character is then looked up in a per-process LRU bounded by READ_CACHE_MAX_BYTES,
keyed by (key, scheme, host);
a miss is built by the normal view and serializer code (so the bytes are the same) and stored
under the key read before building it: the stored body is never older than its key.

Why this is safe across worker processes: an entry is never invalidated, it just stops being
asked for. Everything that changes what a character's representation shows changes its key in
the change's own transaction, so a request whose key names the old version was answered before
the change committed, and every later request reads the new key.

Whatever the fast path cannot answer identically falls back to the normal view: no row found
(404, the 401 of a deactivated or deleted user, an empty list or page), a user loaded the
usual way (neither SimpleJWT's deferred user nor an API key's), other renderers or an
indented rendering, `?search=` or an unknown `character_type` on the list.
"""

import threading
import uuid
from collections import OrderedDict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connections
from django.http import HttpResponseNotModified
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework_simplejwt.settings import api_settings

from accounts.api_keys.models import ApiKey
from characters.api.authentication import PendingUser
from characters.models import Character, CharacterType, HandoffTarget
from oshara.http.conditional import body_etag, if_none_match

LIST_PARAMETERS = {"limit", "offset", "character_type"}
# What an entry costs besides its body: its key (ids, revisions, host) and the tuples.
ENTRY_OVERHEAD_BYTES = 512


class LRU:
    """A mapping bounded in bytes that forgets the least recently used entries first.

    Values are (body bytes, etag); an entry costs its body plus ENTRY_OVERHEAD_BYTES. A body
    larger than the whole bound is not kept.
    """

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.size_bytes = 0
        self._data = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def cost(value):
        return len(value[0]) + ENTRY_OVERHEAD_BYTES

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value):
        cost = self.cost(value)
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.size_bytes -= self.cost(old)
            if cost > self.max_bytes:
                return
            self._data[key] = value
            self.size_bytes += cost
            while self.size_bytes > self.max_bytes:
                _, dropped = self._data.popitem(last=False)
                self.size_bytes -= self.cost(dropped)

    def clear(self):
        with self._lock:
            self._data.clear()
            self.size_bytes = 0

    def __len__(self):
        return len(self._data)


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


# -- the one query ---------------------------------------------------------------------------


def _sql():
    connection = connections[Character.objects.db]
    quote = connection.ops.quote_name
    meta, link_meta = Character._meta, HandoffTarget._meta
    user_meta = get_user_model()._meta

    def column(name, model_meta=meta):
        return quote(model_meta.get_field(name).column)

    created, pk, revision = column("created_at"), column("id"), column("revision")
    characters = (
        f"{quote(meta.db_table)} c INNER JOIN {quote(user_meta.db_table)} u "
        f"ON u.{quote(user_meta.pk.column)} = c.{column('owner')}"
    )
    owned = f"c.{column('owner')} = %s AND u.{quote('is_active')} = %s"
    # Every handoff link of the character with its target's revision: part of the key.
    links = (
        f"LEFT JOIN {quote(link_meta.db_table)} l ON l.{column('source', link_meta)} = {{c}} "
        f"LEFT JOIN {quote(meta.db_table)} t ON t.{pk} = l.{column('target', link_meta)}"
    )
    link_columns = (
        f"l.{column('id', link_meta)}, l.{column('position', link_meta)}, "
        f"l.{column('target', link_meta)}, t.{revision}"
    )
    return {
        "one": f"SELECT c.{pk}, c.{revision}, 1, {link_columns} FROM {characters} "
        f"{links.format(c=f'c.{pk}')} WHERE {owned} AND c.{column('slug')} = %s",
        "page_inner": f"SELECT c.{pk} AS id, c.{revision} AS revision, c.{created} AS created, "
        f"COUNT(*) OVER () AS total FROM {characters} WHERE {owned}",
        "type": f" AND c.{column('character_type')} = %s",
        "order": f" ORDER BY c.{created} DESC, c.{pk} DESC",
        "page_outer": f"SELECT p.id, p.revision, p.total, {link_columns} FROM ({{inner}}) p "
        f"{links.format(c='p.id')} ORDER BY p.created DESC, p.id DESC",
    }


_statements = None


def statements():
    global _statements
    if _statements is None:
        _statements = _sql()
    return _statements


def _fetch(sql, params):
    with connections[Character.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _revision(value):
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(value)


def _keys(rows):
    """[(id, revision, links)] in row order, and the total (third column)."""
    keys, links = {}, {}
    for pk, revision, _, link, position, target, target_revision in rows:
        keys.setdefault(pk, _revision(revision))
        found = links.setdefault(pk, [])
        if link is not None:
            found.append((link, position, target, _revision(target_revision)))
    return [(pk, revision, tuple(sorted(links[pk]))) for pk, revision in keys.items()], (
        rows[0][2] if rows else None
    )


def find_one(user_id, slug):
    """The key (id, revision, links) of the active user's character `slug`, or None."""
    keys, _ = _keys(_fetch(statements()["one"], [user_id, True, slug]))
    return keys[0] if keys else None


def find_page(user_id, character_type, limit, offset):
    """The keys of the page, newest first, and the total; ([], None) when empty."""
    sql = statements()
    inner, params = sql["page_inner"], [user_id, True]
    if character_type is not None:
        inner += sql["type"]
        params.append(character_type)
    inner += sql["order"]
    if limit is not None:
        inner += " LIMIT %s OFFSET %s"
        params += [limit, offset]
    return _keys(_fetch(sql["page_outer"].format(inner=inner), params))


# -- who may use it --------------------------------------------------------------------------


def cacheable_user_id(request):
    """The token's user id when this read can be answered from the cache, else None."""
    if request.method not in ("GET", "HEAD"):
        return None
    renderer = getattr(request, "accepted_renderer", None)
    if type(renderer) is not JSONRenderer:
        return None
    if renderer.get_indent(request.accepted_media_type, {}) is not None:
        return None
    user = request.user
    if isinstance(request.auth, ApiKey):
        return user.pk  # loaded, active, with the key, by the one query of its authentication
    if not isinstance(user, PendingUser):
        return None
    pk = get_user_model()._meta.pk
    if pk.attname != api_settings.USER_ID_FIELD:
        return None
    try:
        return pk.to_python(user.user_id)
    except ValidationError:
        return None


def entry_key(request, key):
    # Image and file URLs are absolute: built from the request's scheme and host.
    return (*key, request.scheme, request.get_host())


def store(request, key, data):
    """Render one character's representation and keep it under the key read *before* it was
    built (so what is stored is never older than its key); returns (body, etag)."""
    body = JSONRenderer().render(data)
    entry = (body, body_etag(body))
    entries.put(entry_key(request, key), entry)
    return entry


class ReadCacheMixin:
    """retrieve() and list() answered from `entries` when possible (see the module docstring).

    Goes before ConcurrencyMixin: a miss runs the normal retrieve/list, whose output is stored.
    """

    def retrieve(self, request, *args, **kwargs):
        user_id = cacheable_user_id(request)
        row = None
        if user_id is not None:
            row = find_one(user_id, kwargs[self.lookup_url_kwarg or self.lookup_field])
        if row is None:
            return super().retrieve(request, *args, **kwargs)
        entry = entries.get(entry_key(request, row))
        if entry is None:
            response = super().retrieve(request, *args, **kwargs)
            if response.status_code == 200 and isinstance(response, Response):
                store(request, row, response.data)
            return response
        body, etag = entry
        if if_none_match(request, etag):
            not_modified = HttpResponseNotModified()
            not_modified["ETag"] = etag
            return not_modified
        return PrerenderedResponse(body, headers={"ETag": etag})

    def list(self, request, *args, **kwargs):
        user_id = cacheable_user_id(request)
        params = request.query_params
        character_type = params.get("character_type")
        if (
            user_id is None
            or not set(params) <= LIST_PARAMETERS
            or (character_type not in (None, "") and character_type not in CharacterType.values)
        ):
            return super().list(request, *args, **kwargs)
        paginator = self.paginator
        limit = paginator.get_limit(request) if paginator is not None else None
        # Checked even without a limit: a bad offset is a 400 (it only pages with a limit).
        offset = paginator.get_offset(request) if paginator is not None else 0
        rows, total = find_page(user_id, character_type, limit, offset)
        if not rows:
            return super().list(request, *args, **kwargs)
        bodies = self.page_bodies(request, rows)
        if bodies is None:  # a character went away meanwhile
            return super().list(request, *args, **kwargs)
        headers = None
        if limit is not None:
            paginator.request, paginator.limit, paginator.offset = request, limit, offset
            paginator.count = total
            headers = paginator.page_headers()
        return PrerenderedResponse(b"[" + b",".join(bodies) + b"]", headers=headers)

    def page_bodies(self, request, keys):
        found = {key[0]: entries.get(entry_key(request, key)) for key in keys}
        missing = {key[0]: key for key in keys if found[key[0]] is None}
        if missing:
            instances = list(self.get_queryset().filter(pk__in=missing))
            if len(instances) != len(missing):
                return None
            data = self.get_serializer(instances, many=True).data
            for instance, item in zip(instances, data, strict=True):
                found[instance.pk] = store(request, missing[instance.pk], item)
        return [found[key[0]][0] for key in keys]
