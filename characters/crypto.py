"""A text field encrypted at rest with Fernet (a MultiFernet over settings.FERNET_KEYS).

The column holds a Fernet token (text) or NULL. Subclasses that store other types must keep
that column format: `manage.py rotate_fernet_keys` re-encrypts the raw tokens of every
EncryptedTextField, subclasses included, without knowing what they hold.
"""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django import forms
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.db.models import NOT_PROVIDED


class DecryptionError(Exception):
    """A stored value that none of the configured keys can decrypt."""


def configured_keys():
    """FERNET_KEYS as a tuple of keys, newest first (a comma-separated string is accepted)."""
    keys = settings.FERNET_KEYS
    if isinstance(keys, str):
        keys = keys.split(",")
    return tuple(key.strip() for key in keys if key and key.strip())


@lru_cache(maxsize=8)
def _fernets_for(keys):
    if not keys:
        raise ImproperlyConfigured("FERNET_KEYS is empty: secrets cannot be encrypted.")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            # The key itself is never part of the message.
            raise ImproperlyConfigured(
                f"FERNET_KEYS entry {position} is not a valid Fernet key (32 url-safe "
                "base64-encoded bytes; python manage.py generate_fernet_key makes one)."
            ) from None
    return fernets


@lru_cache(maxsize=8)
def _crypter_for(keys):
    return MultiFernet(_fernets_for(keys))


def get_crypter():
    """The MultiFernet for the current keys: the first encrypts, every key decrypts."""
    return _crypter_for(configured_keys())


def get_primary_fernet():
    """The Fernet of the newest key, the one every value is encrypted with."""
    return _fernets_for(configured_keys())[0]


def encrypt(plaintext):
    return get_crypter().encrypt(plaintext.encode()).decode()


def decrypt(token, label="value"):
    try:
        return get_crypter().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            f"Cannot decrypt {label}: no key in FERNET_KEYS matches it "
            "(was a key removed before rotate_fernet_keys ran?)."
        ) from None


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; empty values are stored as NULL. Only `isnull` lookups work.

    Equality, ordering and indexes are meaningless on ciphertext (the same plaintext encrypts
    differently every time), so they are refused rather than silently matching nothing.
    """

    description = "Text encrypted at rest with Fernet"

    def __init__(self, *args, **kwargs):
        for option in ("primary_key", "unique", "db_index"):
            if kwargs.get(option):
                raise ImproperlyConfigured(f"EncryptedTextField does not support {option}=True.")
        if kwargs.get("db_default", NOT_PROVIDED) is not NOT_PROVIDED:
            # A database default would be written as plaintext, bypassing encryption.
            raise ImproperlyConfigured("EncryptedTextField does not support db_default.")
        kwargs["null"] = True
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("null", None)
        return name, path, args, kwargs

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(f"EncryptedTextField does not support the '{lookup_name}' lookup.")
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name):
        raise FieldError(f"EncryptedTextField does not support the '{lookup_name}' transform.")

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return None
        return encrypt(value)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return decrypt(value, label=f"{self.model._meta.label}.{self.name}")

    def value_to_string(self, obj):
        # Serialisation (dumpdata) must not write the plaintext out; back up the database
        # itself (ciphertext) together with the keys instead.
        return ""


class EncryptedJSONField(EncryptedTextField):
    """A JSON value encrypted at rest as a single Fernet token, so key rotation covers it.

    An empty value (None, "", [] or {}) is stored as NULL and read back as the default.
    """

    description = "JSON encrypted at rest with Fernet"

    def get_prep_value(self, value):
        if value is None or value in ("", [], {}):
            return None
        return super().get_prep_value(json.dumps(value, separators=(",", ":")))

    def from_db_value(self, value, expression, connection):
        plaintext = super().from_db_value(value, expression, connection)
        return self.get_default() if plaintext is None else json.loads(plaintext)

    def to_python(self, value):
        # A decoded JSON value, not TextField's str() of it.
        return value

    def formfield(self, **kwargs):
        kwargs.setdefault("form_class", forms.JSONField)
        return super().formfield(**kwargs)
