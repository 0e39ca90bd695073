"""Standard Webhooks signatures (the `standardwebhooks` package, as a receiver verifies)."""

import base64
import json
import secrets
from datetime import datetime, timedelta

from standardwebhooks.webhooks import Webhook

ROTATION_OVERLAP = timedelta(hours=24)


def new_secret():
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def body_of(event):
    """The request body: the event's type, time and data (the id is the webhook-id header)."""
    payload = {"type": event.type, "timestamp": event.created_at.isoformat(), "data": event.data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def signing_secrets(endpoint, now):
    """The current secret, and the previous one while its overlap lasts."""
    current = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires and expires > now:
        current.append(endpoint.previous_secret)
    return current


def headers_for(event_id, body, secrets_, sent_at: datetime):
    signatures = [Webhook(secret).sign(event_id, sent_at, body) for secret in secrets_]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
