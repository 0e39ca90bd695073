"""Uploaded files follow their character: removed once a delete has committed."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from characters.models import Character


def delete_file_on_commit(fieldfile):
    """Remove a stored file after the surrounding transaction commits (never on rollback)."""
    if not fieldfile:
        return
    storage, name = fieldfile.storage, fieldfile.name
    transaction.on_commit(lambda: storage.delete(name))


@receiver(post_delete, sender=Character)
def delete_character_files(sender, instance, **kwargs):
    delete_file_on_commit(instance.image)
    delete_file_on_commit(instance.voice_audio_file)
