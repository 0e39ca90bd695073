"""/api/organizations/ (the caller's organizations, their members and invitations) and
POST /api/invitations/accept/. The organization in the path is the acting one; what each
action takes is the role table's (roles.py), applied by OrganizationRole."""

from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.organizations import roles, selectors, services
from accounts.organizations.acting import act_in, acting_organization
from accounts.organizations.models import SLUG_PATTERN
from accounts.organizations.permissions import MembersOnly, OrganizationRole, require
from accounts.organizations.roles import Role
from accounts.organizations.serializers import (
    AcceptedSerializer,
    AcceptSerializer,
    InvitationCreatedSerializer,
    InvitationSerializer,
    MemberSerializer,
    OrganizationSerializer,
)
from oshara.schema import error_response

PERMISSIONS = [IsAuthenticated, MembersOnly, OrganizationRole]
ROLE_REFUSED = error_response(403, "Your role in this organization cannot do this.")
CONFLICT = error_response(409, "The last owner, a personal organization, or characters left.")


class InOrganizationMixin:
    """The organization named by the path acts (404 for a non-member) before the role
    table is applied."""

    organization_kwarg = "organization_slug"
    # The path names the organization: X-Organization is not read here.
    permission_header_documented = False

    def initial(self, request, *args, **kwargs):
        self.format_kwarg = self.get_format_suffix(**kwargs)
        self.perform_authentication(request)  # a 401 before a 404
        if self.organization_kwarg in kwargs and not getattr(self, "swagger_fake_view", False):
            act_in(request, kwargs[self.organization_kwarg])
        super().initial(request, *args, **kwargs)

    def organization(self):
        return selectors.organization(acting_organization(self.request).organization_id)


@extend_schema_view(
    list=extend_schema(summary="List your organizations, with your role in each"),
    create=extend_schema(summary="Create an organization (you are its owner)"),
    retrieve=extend_schema(summary="Retrieve an organization"),
    partial_update=extend_schema(
        summary="Rename an organization", responses={200: OrganizationSerializer, 403: ROLE_REFUSED}
    ),
    destroy=extend_schema(
        summary="Delete an organization",
        description="Owners only; a 409 while it has characters, and for a personal one.",
        responses={204: None, 403: ROLE_REFUSED, 409: CONFLICT},
    ),
)
@extend_schema(tags=["organizations"])
class OrganizationViewSet(
    InOrganizationMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = OrganizationSerializer
    permission_classes = PERMISSIONS
    organization_kwarg = "slug"
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    organization_actions = {
        "create": roles.READ,  # anyone may create one (and owns it)
        "partial_update": roles.GOVERN,
        "destroy": roles.GOVERN,
    }

    def get_queryset(self):
        return selectors.memberships_of(self.request.user)

    def get_object(self):
        acting = acting_organization(self.request)
        return selectors.memberships_of(self.request.user).get(
            organization_id=acting.organization_id
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data["organization"]
        try:
            with transaction.atomic():
                organization = services.create_organization(
                    fields["name"], request.user, slug=fields.get("slug")
                )
        except IntegrityError as exc:
            raise ValidationError({"slug": ["An organization with this slug exists."]}) from exc
        membership = selectors.membership(request.user.pk, organization.pk)
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        serializer = self.get_serializer(membership, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if name := serializer.validated_data.get("organization", {}).get("name"):
            membership.organization.name = name
            membership.organization.save(update_fields=["name"])
        return Response(self.get_serializer(membership).data)

    def destroy(self, request, *args, **kwargs):
        services.delete_organization(self.get_object().organization)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="List an organization's members"),
    partial_update=extend_schema(
        summary="Change a member's role",
        description="Admins change editors and viewers; making or demoting an owner takes an "
        "owner. The last owner cannot be demoted (409).",
        responses={200: MemberSerializer, 403: ROLE_REFUSED, 409: CONFLICT},
    ),
    destroy=extend_schema(
        summary="Remove a member, or leave (your own user_id)",
        description="Anyone may leave; removing others takes an admin (an owner: an owner). "
        "The last owner cannot leave (409).",
        responses={204: None, 403: ROLE_REFUSED, 409: CONFLICT},
    ),
)
@extend_schema(tags=["organizations"])
class MemberViewSet(
    InOrganizationMixin,
    mixins.ListModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MemberSerializer
    permission_classes = PERMISSIONS
    lookup_field = "user_id"
    lookup_value_regex = "[0-9]{1,18}"
    http_method_names = ["get", "patch", "delete", "head", "options"]
    organization_actions = {"partial_update": roles.MANAGE, "destroy": roles.MANAGE}

    def organization_action(self, request):
        if self.action == "destroy" and self.kwargs.get("user_id") == str(request.user.pk):
            return roles.READ  # leaving takes no role
        return None

    def organization_object_action(self, request, membership):
        """Making, demoting or removing an owner takes an owner."""
        leaving = membership.user_id == request.user.pk and request.method == "DELETE"
        if leaving:
            return None
        if membership.role == Role.OWNER or request.data.get("role") == Role.OWNER:
            return roles.GOVERN
        return None

    def get_queryset(self):
        organization_id = acting_organization(self.request).organization_id
        return selectors.members_of(organization_id)

    def perform_update(self, serializer):
        if "role" in serializer.validated_data:  # a PATCH without a role changes nothing
            services.change_role(serializer.instance, serializer.validated_data["role"])

    def perform_destroy(self, instance):
        services.remove_member(instance)


@extend_schema_view(
    list=extend_schema(summary="List an organization's pending invitations"),
    retrieve=extend_schema(summary="Retrieve a pending invitation"),
    create=extend_schema(
        summary="Invite someone by e-mail",
        description="The token is e-mailed (Django's e-mail backend) and returned once, for "
        "an admin to share. It expires in 7 days. Inviting an owner takes an owner.",
        responses={201: InvitationCreatedSerializer, 403: ROLE_REFUSED},
    ),
    destroy=extend_schema(summary="Revoke an invitation", responses={204: None}),
)
@extend_schema(tags=["organizations"])
class InvitationViewSet(
    InOrganizationMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = InvitationSerializer
    permission_classes = PERMISSIONS
    lookup_value_regex = "[0-9]{1,18}"
    organization_actions = dict.fromkeys(
        ("list", "retrieve", "create", "destroy", "metadata"), roles.MANAGE
    )

    def get_queryset(self):
        organization_id = acting_organization(self.request).organization_id
        return selectors.pending_invitations(organization_id)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["role"] == Role.OWNER:
            require(request, roles.GOVERN)
        invitation, token = services.invite(
            self.organization(), invited_by=request.user, **serializer.validated_data
        )
        created = InvitationCreatedSerializer(invitation, context={"token": token})
        return Response(created.data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.revoke(instance)


@extend_schema(
    tags=["organizations"],
    summary="Accept an invitation",
    request=AcceptSerializer,
    responses={
        200: AcceptedSerializer,
        403: error_response(403, "The invitation was sent to another e-mail address."),
        404: error_response(404, "Unknown, revoked or already accepted."),
        409: error_response(409, "You are already a member."),
        410: error_response(410, "The invitation has expired."),
    },
)
class AcceptInvitationView(APIView):
    """Join the organization an invitation names, as the signed-in user it was sent to."""

    permission_classes = [IsAuthenticated, MembersOnly]

    def post(self, request):
        serializer = AcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.accept(request.user, serializer.validated_data["token"])
        body = {"organization": membership.organization.slug, "role": membership.role}
        return Response(AcceptedSerializer(body).data)
