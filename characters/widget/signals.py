"""The widget cache follows the character, and its owner's account: its entries are dropped
when the character changes or its owner is deactivated (or reactivated)."""

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from characters.models import Character
from characters.widget import cache as widget_cache


@receiver(post_init, sender=Character)
def remember_loaded_slug(sender, instance, **kwargs):
    # A slug changed in the admin must also invalidate the entry under the old slug.
    instance._loaded_slug = instance.__dict__.get("slug")


@receiver(post_save, sender=Character)
@receiver(post_delete, sender=Character)
def invalidate_widget_appearance(sender, instance, **kwargs):
    """Drop the widget's cached copies (characters/widget/cache.py) once the change commits.

    Not before: until the commit a concurrent fetch still reads the old row. `robust`, so a
    cache outage is logged instead of failing a request whose change is already saved.
    """
    slugs = {instance.slug, getattr(instance, "_loaded_slug", None)} - {None}
    for slug in slugs:
        transaction.on_commit(lambda slug=slug: widget_cache.invalidate(slug), robust=True)
    instance._loaded_slug = instance.slug


@receiver(post_init, sender=settings.AUTH_USER_MODEL)
def remember_loaded_activity(sender, instance, **kwargs):
    instance._loaded_is_active = instance.__dict__.get("is_active")


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def invalidate_owner_characters(sender, instance, created, update_fields=None, **kwargs):
    """A deactivated owner's characters are a 404 on every public path at once: their cached
    copies go once the change commits. (A queryset's bulk update sends no signal: deactivate
    users one at a time, as the admin does.)"""
    if update_fields is not None and "is_active" not in update_fields:
        return
    loaded = getattr(instance, "_loaded_is_active", None)
    current = instance.__dict__.get("is_active")
    instance._loaded_is_active = current
    if created or current is None or current == loaded:
        return
    transaction.on_commit(lambda: invalidate_characters_of(instance.pk), robust=True)


def invalidate_characters_of(owner_id):
    slugs = Character.objects.filter(owner_id=owner_id).values_list("slug", flat=True)
    widget_cache.invalidate(*slugs)
