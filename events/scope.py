"""The one place that says whose feed an event or a webhook endpoint belongs to.

Today an owner's account is its own organization: the scope is the owner's id. When
organizations exist, these two functions return the organization's id instead, and nothing
else changes (events, endpoints and deliveries store only this value).
"""

from django.contrib.auth import get_user_model


def scope_of_owner(owner_id):
    """The scope of a change to data owned by `owner_id`."""
    return str(owner_id) if owner_id is not None else ""


def scope_of_user(user):
    """The scope a signed-in caller reads and manages."""
    return scope_of_owner(user.pk)


def recipients(organization):
    """The e-mail addresses told when something of the scope needs attention (its owner)."""
    users = get_user_model().objects.filter(pk=organization, is_active=True)
    return [user.email for user in users]
