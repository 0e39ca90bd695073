from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from accounts.organizations import views
from accounts.organizations.models import SLUG_PATTERN

app_name = "organizations"

organizations = SimpleRouter()
organizations.register("organizations", views.OrganizationViewSet, basename="organization")
in_organization = SimpleRouter()
in_organization.register("members", views.MemberViewSet, basename="member")
in_organization.register("invitations", views.InvitationViewSet, basename="invitation")

urlpatterns = [
    *organizations.urls,
    re_path(
        rf"^organizations/(?P<organization_slug>{SLUG_PATTERN})/", include(in_organization.urls)
    ),
    path("invitations/accept/", views.AcceptInvitationView.as_view(), name="accept-invitation"),
]
