"""The signing key and the Fernet keys: from the environment, or random ones for development.

No key that signs (JWTs, sessions) or encrypts (stored secrets) is a constant in the
repository. With DEBUG off the environment must provide them; with DEBUG on, missing ones are
generated once and kept in a git-ignored file (mode 0600) so that local tokens and encrypted
values survive restarts. Keys are never printed, and error messages never echo them.
"""

import contextlib
import json
import os
import secrets
import time

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

SECRET_KEY_MIN_LENGTH = 50  # Django's own rule (security.W009)
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5


def secret_key(configured, debug, dev_file):
    if configured:
        if not debug:
            check_secret_key(configured)
        return configured
    if not debug:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off: at least "
            f"{SECRET_KEY_MIN_LENGTH} random characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    return development_keys(dev_file)["secret_key"]


def check_secret_key(key):
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is too weak: use at least {SECRET_KEY_MIN_LENGTH} characters "
            f"with at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different ones."
        )


def fernet_keys(configured, debug, dev_file):
    keys = [key.strip() for key in configured if key.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(  # never echoes the key itself
                f"FERNET_KEYS entry {position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; python manage.py generate_fernet_key "
                "makes one)."
            ) from None
    if keys:
        return keys
    if not debug:
        raise ImproperlyConfigured(
            "FERNET_KEYS must be set when DJANGO_DEBUG is off. Generate one with: "
            "DJANGO_DEBUG=true python manage.py generate_fernet_key"
        )
    return [development_keys(dev_file)["fernet_key"]]


def development_keys(path):
    """The development keys in `path`, created (atomically, mode 0600) on first use."""
    path = os.fspath(path)
    for _attempt in range(50):
        try:
            with open(path, encoding="utf-8") as file:
                return json.load(file)
        except FileNotFoundError:
            create_development_keys(path)
        except ValueError:
            time.sleep(0.01)  # another process is still writing it
    raise ImproperlyConfigured(f"{path} is not readable JSON; delete it to generate new keys.")


def create_development_keys(path):
    keys = {
        "secret_key": secrets.token_urlsafe(60),
        "fernet_key": Fernet.generate_key().decode(),
    }
    temporary = f"{path}.{os.getpid()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(keys, file)
        with contextlib.suppress(FileExistsError):  # another process published its keys first
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
