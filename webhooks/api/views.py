"""Webhooks API under /api/v1/orgs/<slug>/webhooks/: owners, admins and API keys with the admin
scope. The secret is in every endpoint's answer, so reading needs the admin role (and scope) too."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from organizations.api.base import OrgAPIView
from organizations.api.lists import OrgListAPIView
from organizations.models import Role

from .. import selectors, services
from .serializers import (
    DeliverySerializer,
    EndpointCreateSerializer,
    EndpointSerializer,
    EndpointUpdateSerializer,
)

# Every operation: the admin role for a session, the admin scope for a key (OrgAPIView.api_scope).
ADMIN_SCOPE = "admin"


def _user(request: Request) -> Any:  # an API key's principal is not a User
    return request.user if getattr(request.user, "pk", None) else None


class EndpointListCreateAPI(OrgListAPIView):
    """The organisation's webhook endpoints, newest first; POST adds one (201, with its secret)."""

    required_role = Role.ADMIN
    api_scope = ADMIN_SCOPE
    list_operation_id = "webhooks_list"
    selector = staticmethod(selectors.endpoints_of_organization)
    serializer_class = EndpointSerializer

    @extend_schema(
        operation_id="webhooks_create",
        request=EndpointCreateSerializer,
        responses={201: EndpointSerializer},
    )
    def post(self, request: Request, org_slug: str) -> Response:
        serializer = EndpointCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(
            organization=self.organization, created_by=_user(request), **serializer.validated_data
        )
        return Response(EndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailAPI(OrgAPIView):
    """One endpoint; PATCH changes it (URL, description, events, enabled); DELETE removes it
    with its delivery log."""

    required_role = Role.ADMIN
    api_scope = ADMIN_SCOPE

    @extend_schema(operation_id="webhooks_retrieve", responses=EndpointSerializer)
    def get(self, request: Request, org_slug: str, webhook_id: int) -> Response:
        endpoint = selectors.endpoint_get(organization=self.organization, endpoint_id=webhook_id)
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhooks_partial_update",
        request=EndpointUpdateSerializer,
        responses=EndpointSerializer,
    )
    def patch(self, request: Request, org_slug: str, webhook_id: int) -> Response:
        serializer = EndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(
            organization=self.organization, endpoint_id=webhook_id, **serializer.validated_data
        )
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(operation_id="webhooks_destroy", responses={204: None})
    def delete(self, request: Request, org_slug: str, webhook_id: int) -> Response:
        services.endpoint_delete(organization=self.organization, endpoint_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotateSecretAPI(OrgAPIView):
    """A new secret; the previous one keeps signing (a second signature) for the overlap."""

    required_role = Role.ADMIN
    api_scope = ADMIN_SCOPE

    @extend_schema(
        operation_id="webhooks_rotate_secret", request=None, responses=EndpointSerializer
    )
    def post(self, request: Request, org_slug: str, webhook_id: int) -> Response:
        endpoint = services.endpoint_secret_rotate(
            organization=self.organization, endpoint_id=webhook_id
        )
        return Response(EndpointSerializer(endpoint).data)


class EndpointTestAPI(OrgAPIView):
    """Queue a `webhook.test` event to this endpoint (one attempt, in its delivery log): 202."""

    required_role = Role.ADMIN
    api_scope = ADMIN_SCOPE

    @extend_schema(operation_id="webhooks_test", request=None, responses={202: DeliverySerializer})
    def post(self, request: Request, org_slug: str, webhook_id: int) -> Response:
        delivery = services.endpoint_test_send(
            organization=self.organization, endpoint_id=webhook_id
        )
        delivery = selectors.delivery_get(
            organization=self.organization, endpoint_id=webhook_id, delivery_id=delivery.pk
        )
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryListAPI(OrgListAPIView):
    """An endpoint's deliveries, newest first, each with its attempts (status code, response
    time, the answer's first 1,000 characters, the error)."""

    required_role = Role.ADMIN
    api_scope = ADMIN_SCOPE
    list_operation_id = "webhooks_deliveries_list"
    selector = staticmethod(selectors.deliveries_of_endpoint)
    serializer_class = DeliverySerializer

    def selector_kwargs(self, query: dict[str, Any]) -> dict[str, Any]:
        return {"endpoint_id": self.kwargs["webhook_id"]}

    def get(self, request: Request, org_slug: str, webhook_id: int = 0) -> Response:  # type: ignore[override]
        selectors.endpoint_get(organization=self.organization, endpoint_id=webhook_id)
        return super().get(request, org_slug)


class DeliveryRedeliverAPI(OrgAPIView):
    """Send a delivery again now (same webhook-id and body): 202; the attempt joins its log."""

    required_role = Role.ADMIN
    api_scope = ADMIN_SCOPE

    @extend_schema(
        operation_id="webhooks_deliveries_redeliver",
        request=None,
        responses={202: DeliverySerializer},
    )
    def post(
        self, request: Request, org_slug: str, webhook_id: int, webhook_delivery_id: int
    ) -> Response:
        delivery = selectors.delivery_get(
            organization=self.organization, endpoint_id=webhook_id, delivery_id=webhook_delivery_id
        )
        services.delivery_redeliver(organization=self.organization, delivery_id=delivery.pk)
        delivery = selectors.delivery_get(
            organization=self.organization, endpoint_id=webhook_id, delivery_id=webhook_delivery_id
        )
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
