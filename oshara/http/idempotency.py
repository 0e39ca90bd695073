"""Idempotency-Key on the POSTs that create (POST /api/ai-characters/, …/duplicate/): a retried
create never makes a second character.

The key is claimed by inserting its row in the create's own transaction, before anything
else: a concurrent request with the same key waits on the unique index until the first one
commits, then replays its response. A failed create rolls the claim back with it, so the
key can be retried. Keys are per user and remembered for IDEMPOTENCY_KEY_TTL (24 h).
"""

import hashlib
import json
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from oshara.http.conditional import Conflict

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_key_reused"


def _file_digest(upload):
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def request_fingerprint(request, action=""):
    """A digest of what was sent, independent of JSON key order or multipart boundaries; an
    `action` other than the create (a duplicate) counts too, so one key sent to both is a 422."""
    data = request.data
    if hasattr(data, "lists"):  # multipart: values and uploaded files, by field name
        canonical = {
            key: [
                {"file": value.name, "sha256": _file_digest(value)}
                if isinstance(value, UploadedFile)
                else value
                for value in values
            ]
            for key, values in data.lists()
        }
    else:
        canonical = data
    text = action + json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def replay(record, fingerprint):
    if record.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if record.response_status is None:
        raise Conflict("A request with this Idempotency-Key is still being processed.")
    body = json.loads(record.response_body)  # keeps the key order of the stored text
    headers = {"Idempotent-Replayed": "true"}
    if record.response_etag:
        headers["ETag"] = record.response_etag  # the one first sent, even if changed since
    return Response(body, status=record.response_status, headers=headers)


class IdempotentCreateMixin:
    """Wraps create(), and any other action that creates through idempotent(): the first
    response to a key is stored and replayed for repeats.

    `idempotency_key_model` is the view's model of stored keys (user, key, request_fingerprint,
    response_status, response_body, response_etag), so this module needs no app's models.
    `idempotent_actions` names the actions that take the header (the schema documents it on
    them). Each must return the response with its ETag set.
    """

    idempotency_key_model = None
    idempotent_actions = ("create",)

    def create(self, request, *args, **kwargs):
        return self.idempotent(request, partial(super().create, request, *args, **kwargs))

    def idempotent(self, request, respond):
        """`respond()`'s response, or the one stored for this request's Idempotency-Key."""
        key = request.headers.get(HEADER)
        if key is None:
            return respond()
        if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            raise ValidationError(
                {HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."]}
            )
        action = getattr(self, "action", "create")
        fingerprint = request_fingerprint(request, "" if action == "create" else action)
        expired = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
        keys = self.idempotency_key_model.objects.filter(user=request.user)
        keys.filter(created_at__lt=expired).delete()

        record = keys.filter(key=key).first()
        if record is None:
            try:
                with transaction.atomic():
                    record = self.idempotency_key_model.objects.create(
                        user=request.user, key=key, request_fingerprint=fingerprint
                    )
            except IntegrityError:
                # A concurrent request with this key committed first: answer as it did.
                return replay(keys.get(key=key), fingerprint)
        else:
            return replay(record, fingerprint)

        response = respond()
        record.response_status = response.status_code
        record.response_body = JSONRenderer().render(response.data).decode()
        record.response_etag = response.get("ETag", "")
        record.save(update_fields=["response_status", "response_body", "response_etag"])
        return response
