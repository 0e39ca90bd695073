"""Uploads follow their rows; and every delete of a character, those Django cascades from a
deleted owner included, takes the one change path (characters/changes.py)."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models, transaction
from django.db.models.signals import post_delete, pre_save
from django.dispatch import receiver

from characters.changes import record_change
from characters.models import Character

_stored_files = ContextVar("stored_files", default=None)


def delete_file_on_commit(fieldfile):
    """Remove a stored file after the surrounding transaction commits (never on rollback)."""
    if not fieldfile:
        return
    storage, name = fieldfile.storage, fieldfile.name
    transaction.on_commit(lambda: storage.delete(name))


@receiver(post_delete, sender=Character)
def character_deleted(sender, instance, **kwargs):
    delete_file_on_commit(instance.image)
    delete_file_on_commit(instance.voice_audio_file)
    record_change(instance)


class StoredFiles:
    """The files written to storage by the saves of one write request."""

    def __init__(self):
        self._pending = []

    def track(self, instance, attname):
        self._pending.append((instance, attname))

    def delete_all(self):
        """The write failed: no row points at these files any more."""
        for instance, attname in self._pending:
            fieldfile = getattr(instance, attname)
            if fieldfile and fieldfile._committed:
                fieldfile.storage.delete(fieldfile.name)
        self._pending.clear()


@contextmanager
def files_removed_on_failure():
    """Collect the uploads saved inside the block, for the caller to delete on failure."""
    stored = StoredFiles()
    token = _stored_files.set(stored)
    try:
        yield stored
    finally:
        _stored_files.reset(token)


@receiver(pre_save)
def track_uploads_being_stored(sender, instance, raw=False, **kwargs):
    """A new upload is written to storage by this save, before the row points at it."""
    stored = _stored_files.get()
    if stored is None or raw:
        return
    for field in instance._meta.concrete_fields:
        if isinstance(field, models.FileField):
            fieldfile = getattr(instance, field.attname)
            if fieldfile and not fieldfile._committed:
                stored.track(instance, field.attname)
