"""A document's file goes with it: removed once the delete has committed (never on rollback)."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from knowledge.models import Document


@receiver(post_delete, sender=Document)
def delete_document_file(sender, instance, **kwargs):
    if instance.file:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name))
