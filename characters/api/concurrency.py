"""Optimistic concurrency and race-safe writes for the character endpoints.

- A strong ETag: a hash of the character's JSON representation, so it changes whenever
  anything in the body does (including a handoff target's name or a new document).
- GET honours If-None-Match (304); PUT, PATCH and DELETE honour If-Match (412 when stale).
- Each write is one explicit transaction owned by the view (not ATOMIC_REQUESTS), so that a
  failure at commit is still seen here: files stored by a failed write are deleted again.
- The character being changed is locked (SELECT ... FOR UPDATE on PostgreSQL), so concurrent
  writes queue up instead of overwriting each other.
- Integrity errors from races become 400 (naming the field) or 409, never 500.
"""

import logging

from django.db import IntegrityError, transaction
from django.http import HttpResponseNotModified, JsonResponse
from rest_framework.exceptions import ValidationError

from characters import services
from characters.models import Character
from characters.signals import files_removed_on_failure
from oshara.http.conditional import (
    Conflict,
    PreconditionFailed,
    if_match_fails,
    if_none_match,
    representation_etag,
)

logger = logging.getLogger("oshara.concurrency")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class ConcurrencyMixin:
    """ETags, preconditions, row locks and one transaction per write, for a ModelViewSet."""

    @classmethod
    def as_view(cls, *args, **kwargs):
        # dispatch() owns the write transaction; ATOMIC_REQUESTS would commit after it.
        return transaction.non_atomic_requests(super().as_view(*args, **kwargs))

    def dispatch(self, request, *args, **kwargs):
        if request.method in SAFE_METHODS:
            if request.method != "OPTIONS" and not transaction.get_connection().in_atomic_block:
                # Reads need no transaction: autocommit saves a BEGIN and a COMMIT round trip.
                # (OPTIONS stays in one: DRF's metadata fetches the object as for a PUT, with
                # the row lock a PUT takes.)
                return super().dispatch(request, *args, **kwargs)
            # Inside someone else's transaction, a savepoint of our own: DRF's error handling
            # marks the open transaction for rollback, which must be this request's only.
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        with files_removed_on_failure() as stored_files:
            try:
                with transaction.atomic():
                    response = super().dispatch(request, *args, **kwargs)
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

    def filter_queryset(self, queryset):
        # DRF's get_object() passes through here, whatever get_queryset() the view defines.
        queryset = super().filter_queryset(queryset)
        if self.request.method in ("PUT", "PATCH", "DELETE"):
            queryset = services.locked_for_write(queryset, delete=self.request.method == "DELETE")
        return queryset

    def get_object(self):
        # Fetched (and locked) once per request, then reused by DRF's update().
        if not hasattr(self, "_locked_object"):
            self._locked_object = super().get_object()
        return self._locked_object

    def current_etag(self, instance):
        return representation_etag(self.get_serializer(instance).data)

    def check_if_match(self, instance):
        if "If-Match" not in self.request.headers:
            return
        etag = self.current_etag(instance)
        if if_match_fails(self.request, etag):
            raise PreconditionFailed()

    def with_etag(self, response):
        if response.data is not None:
            response["ETag"] = representation_etag(response.data)
        return response

    def retrieve(self, request, *args, **kwargs):
        response = self.with_etag(super().retrieve(request, *args, **kwargs))
        if if_none_match(request, response["ETag"]):
            not_modified = HttpResponseNotModified()
            not_modified["ETag"] = response["ETag"]
            return not_modified
        return response

    def create(self, request, *args, **kwargs):
        try:
            with transaction.atomic():  # a savepoint, so the cause can still be looked up
                response = super().create(request, *args, **kwargs)
        except IntegrityError as exc:
            raise self.integrity_error(request) from exc
        return self.with_etag(response)

    def update(self, request, *args, **kwargs):
        self.check_if_match(self.get_object())
        try:
            response = super().update(request, *args, **kwargs)
        except IntegrityError as exc:
            raise Conflict() from exc
        return self.with_etag(response)

    def destroy(self, request, *args, **kwargs):
        self.check_if_match(self.get_object())
        return super().destroy(request, *args, **kwargs)

    @staticmethod
    def integrity_error(request):
        """Name the field a concurrent request took first, or say it is a conflict."""
        slug = request.data.get("slug") if hasattr(request.data, "get") else None
        if isinstance(slug, str) and Character.objects.filter(slug=slug).exists():
            return ValidationError({"slug": ["character with this slug already exists."]})
        return Conflict()
