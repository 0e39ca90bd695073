"""Uploads follow their rows and versions; every delete of a character, those Django cascades from a
deleted owner included, takes the one change path (characters/changes.py), and so does an
owner's deactivation or reactivation."""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_init, post_save, pre_delete, pre_save
from django.dispatch import receiver

from characters.changes import record_change, record_owner_activity_change
from characters.models import Character, CharacterVersion

_stored_files = ContextVar("stored_files", default=None)


def remove_unreferenced_files_on_commit(stored):
    """Remove these uploads, (storage, name) pairs, once the transaction commits: those no
    version still shows (a version's files stay while any version names them)."""
    stored = [(storage, name) for storage, name in stored if name]
    if stored:
        transaction.on_commit(partial(_remove_unreferenced, stored), robust=True)


def _remove_unreferenced(stored):
    names = {name for _, name in stored}
    shown = CharacterVersion.objects.filter(Q(image__in=names) | Q(voice_audio_file__in=names))
    kept = {name for pair in shown.values_list("image", "voice_audio_file") for name in pair}
    for storage, name in stored:
        if name not in kept:
            storage.delete(name)


def file_fields():
    return [Character._meta.get_field(name) for name in ("image", "voice_audio_file")]


@receiver(pre_delete, sender=Character)
def remember_version_files(sender, instance, **kwargs):
    """The files its versions show, read before the versions cascade away with it."""
    versions = CharacterVersion.objects.filter(character=instance)
    rows = versions.values_list("image", "voice_audio_file").distinct()
    instance.version_files = {
        (field.storage, name)
        for row in rows
        for field, name in zip(file_fields(), row, strict=True)
    }


@receiver(post_delete, sender=Character)
def character_deleted(sender, instance, **kwargs):
    current = {(field.storage, getattr(instance, field.attname).name) for field in file_fields()}
    remove_unreferenced_files_on_commit(current | getattr(instance, "version_files", set()))
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
