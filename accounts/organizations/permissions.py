"""The role table, applied in one place: a view names what each of its actions takes
(`organization_actions`, roles.READ … roles.GOVERN), this class refuses what the caller's
role in the acting organization may not do, with DESIGN's 403 body.

Reads are allowed to every role, so they only need the caller to be a member: the view's
queryset resolves the acting organization (a 404 for a non-member), and a read answered from
the characters' read cache checks the membership inside its one statement. Every other action
resolves the acting organization here, before the view runs.
"""

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.organizations import roles
from accounts.organizations.acting import OrganizationCredential, acting_organization


def action_of(request, view):
    """What the request takes: the view's `organization_action(request)` when it has one,
    else its `organization_actions` entry for the action, else READ for a safe method and
    EDIT for any other."""
    if hasattr(view, "organization_action"):
        found = view.organization_action(request)
        if found is not None:
            return found
    actions = getattr(view, "organization_actions", {})
    default = roles.READ if request.method in SAFE_METHODS else roles.EDIT
    return actions.get(getattr(view, "action", None), default)


def require(request, action):
    """A 403 naming the caller's role unless it may do `action` in the acting organization."""
    acting = acting_organization(request)
    if not acting.may(action):
        raise PermissionDenied(roles.refusal(acting.role, action))
    return acting


class OrganizationRole(BasePermission):
    # Documented on every operation of the views that name this permission (oshara/schema.py).
    schema_header = (
        "X-Organization",
        r"^[a-z0-9][a-z0-9_-]{0,63}$",
        "The slug of the organization the request acts in (default: your default "
        "organization; an API key acts in its own, and naming another is a 403).",
    )

    def has_permission(self, request, view):
        action = action_of(request, view)
        if action != roles.READ:
            require(request, action)
        return True

    def has_object_permission(self, request, view, obj):
        """What a write takes may depend on the object (`organization_object_action`)."""
        if hasattr(view, "organization_object_action"):
            action = view.organization_object_action(request, obj)
            if action is not None:
                require(request, action)
        return True


class MembersOnly(BasePermission):
    """Organizations, members and invitations are managed by people (a JWT): an API key,
    which belongs to one organization, cannot manage them."""

    message = (
        "API keys cannot manage organizations: authenticate with a JWT "
        "(Authorization: Bearer <access>) instead."
    )
    code = "api_key_not_allowed"

    def has_permission(self, request, view):
        return not isinstance(request.auth, OrganizationCredential)
