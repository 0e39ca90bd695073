"""Every user has a personal organization from the moment the account exists, whichever way
it was made (signup, the admin, createsuperuser, a shell)."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.organizations import services


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def give_new_user_a_personal_organization(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        services.create_personal_organization(instance)
