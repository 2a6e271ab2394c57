"""API of the organisation itself: detail and settings, members, API keys."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from .. import selectors, services
from ..models import APIKeyScope, Role
from .base import OrgAPIView
from .lists import OrgListAPIView
from .serializers import (
    APIKeyCreatedSerializer,
    APIKeyCreateSerializer,
    APIKeyListSerializer,
    APIKeyRevokedSerializer,
    InvitationCreatedSerializer,
    InvitationCreateSerializer,
    InvitationListSerializer,
    InvitationRevokedSerializer,
    MemberDetailSerializer,
    MemberListSerializer,
    MemberRoleUpdateSerializer,
    OrganizationDetailSerializer,
    OrganizationSettingsUpdateSerializer,
)


class OrganizationDetailAPI(OrgAPIView):
    """The organisation and its settings. Everyone reads; admins (and write keys) change."""

    required_role_for_write = Role.ADMIN

    @extend_schema(operation_id="organization_retrieve", responses=OrganizationDetailSerializer)
    def get(self, request: Request, org_slug: str) -> Response:
        return Response(OrganizationDetailSerializer(self.organization).data)

    @extend_schema(
        operation_id="organization_settings_update",
        request=OrganizationSettingsUpdateSerializer,
        responses=OrganizationDetailSerializer,
    )
    def patch(self, request: Request, org_slug: str) -> Response:
        serializer = OrganizationSettingsUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.organization_update_settings(
            organization=self.organization, actor=request.user, **serializer.validated_data
        )
        return Response(OrganizationDetailSerializer(organization).data)


class MemberListAPI(OrgListAPIView):
    """The organisation's members, newest first, cursor-paginated."""

    api_scope = APIKeyScope.ADMIN

    list_operation_id = "members_list"
    selector = staticmethod(selectors.organization_members)
    serializer_class = MemberListSerializer


class APIKeyListCreateAPI(OrgListAPIView):
    """List keys (admins, any key); create one (an admin's session only: a key never mints keys)."""

    api_scope = APIKeyScope.ADMIN

    required_role = Role.ADMIN
    allow_api_key_writes = False
    list_operation_id = "api_keys_list"
    selector = staticmethod(selectors.api_keys_of_organization)
    serializer_class = APIKeyListSerializer
    ordering = "-created"

    @extend_schema(
        operation_id="api_keys_create",
        request=APIKeyCreateSerializer,
        responses={201: APIKeyCreatedSerializer},
    )
    def post(self, request: Request, org_slug: str) -> Response:
        serializer = APIKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, full_key = services.api_key_create(
            organization=self.organization, actor=request.user, **serializer.validated_data
        )
        api_key.key = full_key
        response = Response(APIKeyCreatedSerializer(api_key).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class APIKeyDetailAPI(OrgAPIView):
    """One key by its prefix; DELETE revokes it (an admin's session only)."""

    api_scope = APIKeyScope.ADMIN

    required_role = Role.ADMIN
    allow_api_key_writes = False

    @extend_schema(operation_id="api_keys_retrieve", responses=APIKeyListSerializer)
    def get(self, request: Request, org_slug: str, key_id: str) -> Response:
        api_key = selectors.api_key_get(organization=self.organization, key_id=key_id)
        return Response(APIKeyListSerializer(api_key).data)

    @extend_schema(
        operation_id="api_keys_revoke",
        responses={200: OpenApiResponse(APIKeyRevokedSerializer, description="Revoked.")},
    )
    def delete(self, request: Request, org_slug: str, key_id: str) -> Response:
        api_key = services.api_key_revoke(
            organization=self.organization, key_id=key_id, actor=request.user
        )
        return Response(APIKeyRevokedSerializer(api_key).data)


class MemberDetailAPI(OrgAPIView):
    """One member. Owners change the role (PATCH) or remove the member (DELETE); an
    organisation always keeps one owner. Owner actions need an owner's session, not a key."""

    api_scope = APIKeyScope.ADMIN

    required_role_for_write = Role.OWNER

    @extend_schema(operation_id="members_retrieve", responses=MemberDetailSerializer)
    def get(self, request: Request, org_slug: str, membership_id: int) -> Response:
        membership = selectors.membership_get(
            organization=self.organization, membership_id=membership_id
        )
        return Response(MemberDetailSerializer(membership).data)

    @extend_schema(
        operation_id="members_role_update",
        request=MemberRoleUpdateSerializer,
        responses=MemberDetailSerializer,
    )
    def patch(self, request: Request, org_slug: str, membership_id: int) -> Response:
        # Resolve the object first: a foreign or missing member is 404 whatever the body says.
        selectors.membership_get(organization=self.organization, membership_id=membership_id)
        serializer = MemberRoleUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_change_role(
            organization=self.organization,
            membership_id=membership_id,
            role=serializer.validated_data["role"],
            actor=request.user,
        )
        return Response(MemberDetailSerializer(membership).data)

    @extend_schema(operation_id="members_remove", responses={204: None})
    def delete(self, request: Request, org_slug: str, membership_id: int) -> Response:
        services.membership_remove(
            organization=self.organization, membership_id=membership_id, actor=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListCreateAPI(OrgListAPIView):
    """Pending invitations; POST invites someone (the link goes by e-mail, never in the
    answer). Owners' sessions only."""

    api_scope = APIKeyScope.ADMIN

    required_role = Role.OWNER
    list_operation_id = "invitations_list"
    selector = staticmethod(selectors.invitations_pending)
    serializer_class = InvitationListSerializer
    ordering = "-created_at"

    @extend_schema(
        operation_id="invitations_create",
        request=InvitationCreateSerializer,
        responses={201: InvitationCreatedSerializer},
    )
    def post(self, request: Request, org_slug: str) -> Response:
        serializer = InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation, _token = services.invitation_create(
            organization=self.organization, invited_by=request.user, **serializer.validated_data
        )
        return Response(
            InvitationCreatedSerializer(invitation).data, status=status.HTTP_201_CREATED
        )


class InvitationDetailAPI(OrgAPIView):
    """DELETE revokes a pending invitation (owners' sessions only)."""

    api_scope = APIKeyScope.ADMIN

    required_role = Role.OWNER

    @extend_schema(operation_id="invitations_revoke", responses=InvitationRevokedSerializer)
    def delete(self, request: Request, org_slug: str, invitation_id: int) -> Response:
        invitation = services.invitation_revoke(
            organization=self.organization, invitation_id=invitation_id, actor=request.user
        )
        return Response(InvitationRevokedSerializer(invitation).data)
