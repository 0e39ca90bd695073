"""Race-safe writes for the character endpoints.

- A JSON PUT or PATCH is optimistic: the character is read, checked (If-Match) and validated
  with no transaction and no lock, then its writes are one short transaction that saves the
  row only if it still has the revision it was read with (services.character_update,
  `UPDATE … WHERE id = … AND revision = …`). When another write committed in between, nothing
  was written and the request runs once more, the locked way below, against the row as it is
  now (its If-Match may then fail: 412). So no lock is held while Python validates or renders,
  and on SQLite writers no longer queue behind each other's validation.
- Any other write (a create, a multipart body with files, a new handoff list, a delete, a
  publish), and that second run, is one explicit transaction owned by the view (not
  ATOMIC_REQUESTS), so that a failure at commit is still seen here: files stored by a failed
  write are deleted again. The character being changed is locked (SELECT ... FOR UPDATE on
  PostgreSQL, see services.locked_for_write), so concurrent writes queue up instead of
  overwriting each other, and If-Match is checked against the locked row's ETag
  (views.get_object).
- Integrity errors from races become 400 (naming the field) or 409, never 500.
"""

import functools
import logging

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from rest_framework.exceptions import ValidationError

from characters.models import Character, StaleWrite
from characters.signals import files_removed_on_failure
from oshara.http.conditional import Conflict
from oshara.http.transactions import untransacted

logger = logging.getLogger("oshara.concurrency")

# The request attribute that tells the view it runs without a lock (views.CharacterViewSet).
UNLOCKED = "character_write_unlocked"


class LockNeeded(Exception):
    """Raised by a view running unlocked for a write it only makes under the lock."""


def optimistic(request):
    return request.method in ("PUT", "PATCH") and request.content_type == "application/json"


def one_transaction_per_write(view):
    """Wrap a view function: a write commits, or rolls back with its stored files, as one."""

    @transaction.non_atomic_requests  # this wrapper owns the transaction, not the request
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method in ("GET", "HEAD"):
            return untransacted(view, request, *args, **kwargs)
        if optimistic(request):
            request.body  # noqa: B018 -- read once: a second run parses it again
            setattr(request, UNLOCKED, True)
            try:
                return untransacted(view, request, *args, **kwargs)
            except (StaleWrite, LockNeeded):
                setattr(request, UNLOCKED, False)  # nothing was written: again, locked
        # (OPTIONS too: DRF's metadata fetches the object as for a PUT, with its row lock.)
        with files_removed_on_failure() as stored_files:
            try:
                with transaction.atomic():
                    response = view(request, *args, **kwargs)
                    if response.status_code >= 400:
                        transaction.set_rollback(True)
            except IntegrityError:
                # A deferred constraint failed at commit: nothing was saved.
                stored_files.delete_all()
                logger.warning("Write on %s rolled back at commit", request.path, exc_info=True)
                return JsonResponse({"detail": Conflict.default_detail}, status=409)
            except BaseException:
                stored_files.delete_all()
                raise
            if response.status_code >= 400:
                stored_files.delete_all()
        return response

    return wrapped


def integrity_error(request):
    """Name the field a concurrent request took first, or say it is a conflict."""
    slug = request.data.get("slug") if hasattr(request.data, "get") else None
    if isinstance(slug, str) and Character.objects.filter(slug=slug).exists():
        return ValidationError({"slug": ["character with this slug already exists."]})
    return Conflict()
