"""The list positions follow the characters: an owner's are rebuilt after each committed
save or delete of one of its characters (characters/api/positions.py)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from characters.api import positions
from characters.models import Character


@receiver(post_init, sender=Character)
def remember_loaded_owner(sender, instance, **kwargs):
    # A character moved to another owner (the admin) leaves the old owner's list too.
    instance._loaded_owner_id = instance.__dict__.get("owner_id")


@receiver(post_save, sender=Character)
@receiver(post_delete, sender=Character)
def invalidate_list_positions(sender, instance, **kwargs):
    owners = {instance.owner_id, getattr(instance, "_loaded_owner_id", None)} - {None}
    for owner_id in owners:
        transaction.on_commit(lambda owner_id=owner_id: positions.invalidate(owner_id), robust=True)
    instance._loaded_owner_id = instance.owner_id
