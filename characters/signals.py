"""Uploads follow their rows; every delete of a character, those Django cascades from a
deleted owner included, takes the one change path (characters/changes.py), and so does an
owner's deactivation or reactivation."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete, post_init, post_save, pre_save
from django.dispatch import receiver

from characters.changes import record_change, record_owner_activity_change
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
    record_change(instance, "deleted")


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


@receiver(post_init, sender=settings.AUTH_USER_MODEL)
def remember_loaded_activity(sender, instance, **kwargs):
    instance._loaded_is_active = instance.__dict__.get("is_active")


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def owner_saved(sender, instance, created, update_fields=None, **kwargs):
    """A deactivated owner's characters are a 404 on every public path at once (and back on
    reactivation). Other saves of a user (a login's last_login) change nothing public. (A
    bulk update of users sends no signal: deactivate them one at a time, as the admin does.)"""
    if update_fields is not None and "is_active" not in update_fields:
        return
    loaded = getattr(instance, "_loaded_is_active", None)
    current = instance.__dict__.get("is_active")
    instance._loaded_is_active = current
    if created or current is None or current == loaded:
        return
    slugs = Character.objects.filter(owner_id=instance.pk).values_list("slug", flat=True)
    record_owner_activity_change(list(slugs))
