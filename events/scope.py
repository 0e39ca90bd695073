"""The one place that says whose feed an event or a webhook endpoint belongs to: its
organization (events, endpoints and deliveries store its id, as text), and who is told when
something of it needs attention."""

from accounts.organizations.acting import acting_organization
from accounts.organizations.models import Membership
from accounts.organizations.roles import Role


def scope_of(organization_id):
    """The scope of a change to data of the organization `organization_id`."""
    return str(organization_id) if organization_id is not None else ""


def scope_of_request(request):
    """The scope a caller reads and manages: its acting organization."""
    return scope_of(acting_organization(request).organization_id)


def recipients(organization):
    """The e-mail addresses of the scope's active owners and admins."""
    if not str(organization).isdigit():
        return []
    members = Membership.objects.filter(
        organization_id=int(organization),
        role__in=[Role.OWNER, Role.ADMIN],
        user__is_active=True,
    )
    return list(members.values_list("user__email", flat=True))
