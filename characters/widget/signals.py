"""The widget cache follows the character: its entries are dropped when the character changes."""

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
