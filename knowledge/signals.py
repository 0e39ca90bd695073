"""A document's file goes with it: removed once the delete has committed (never on rollback).
A document written or deleted gives its character a new revision (characters/revisions.py)."""

from django.db import transaction
from django.db.models.signals import post_delete, pre_delete, pre_save
from django.dispatch import receiver

from characters.revisions import bump
from knowledge.models import Document


@receiver(post_delete, sender=Document)
def delete_document_file(sender, instance, **kwargs):
    if instance.file:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name))


@receiver(pre_save, sender=Document)
def document_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    ids = [instance.character_id]
    if instance.pk is not None:  # it may be moving from another character
        ids += Document.objects.filter(pk=instance.pk).values_list("character_id", flat=True)
    bump(ids)


@receiver(pre_delete, sender=Document)
def document_deleted(sender, instance, **kwargs):
    bump([instance.character_id])
