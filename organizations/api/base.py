"""Base class for every API view under /api/v1/orgs/<slug>/.

The organisation comes from the URL and is checked once in `initial()`: a session user must be a
member; an API key must belong to it. Foreign and missing organisations both answer 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import APIKeyScope, Membership, Organization, OrganizationAPIKey, Role
from ..selectors import membership_for_slug
from . import idempotency
from .parsers import JSONParser
from .problems import as_problem

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"


class OrgAPIView(APIView):
    """Sets `self.organization` (and `self.membership` for session users).

    `required_role` applies to all methods, `required_role_for_write` to unsafe ones. API keys act
    with the admin role within their scopes: a view's `api_scope` (billing, admin) or, if it names
    none, read for safe methods and write for the others, so a view added later is covered
    without a line of its own; `allow_api_key_writes = False` reserves unsafe methods for a
    person's session (e.g. managing keys); owner-only views answer keys only under the billing
    scope.

    A model's DoesNotExist raised by a selector or service answers 404, and a Django
    ValidationError answers 400 with its messages, so views need no try/except for either. A
    body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` answers 413, one with too many form fields or files
    400, both as ``{"detail": ...}`` (Django would answer its HTML 400 page). JSON bodies go
    through parsers.JSONParser: too deep or holding a lone surrogate is a 400, not a 500.
    """

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser, parsers.FormParser, parsers.MultiPartParser]
    required_role: str = Role.MEMBER
    required_role_for_write: str | None = None
    allow_api_key_writes: bool = True
    # The API key scope every method of the view needs (APIKeyScope.BILLING, .ADMIN); None: read
    # for safe methods, write for the others.
    api_scope: str | None = None
    organization: Organization
    membership: Membership | None = None
    _idempotency_claim: idempotency.Claim | None = None

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # A write with an Idempotency-Key runs in one transaction with its key's row
        # (organizations/api/idempotency.py): both are kept, or neither.
        if request.method in idempotency.METHODS and idempotency.HEADER in request.META:
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._authorize(request, kwargs.get("org_slug", ""))
        key = idempotency.requested_key(request)
        if key is not None:
            self._idempotency_claim = idempotency.claim(
                organization=self.organization, request=request, key=key
            )

    def _authorize(self, request: Request, slug: str) -> None:
        role = self.required_role
        if request.method not in SAFE_METHODS and self.required_role_for_write:
            role = self.required_role_for_write
        if isinstance(request.auth, OrganizationAPIKey):
            api_key = request.auth
            if api_key.organization.slug != slug:
                raise Http404("No such organisation")
            self.organization = api_key.organization
            scope = self.required_scope(request)
            if not api_key.has_scope(scope):
                raise InsufficientScope(
                    _("This API key lacks the %(scope)s scope, which this operation needs.")
                    % {"scope": scope}
                )
            if request.method not in SAFE_METHODS and not self.allow_api_key_writes:
                raise exceptions.PermissionDenied(
                    _("This needs a person's session (log in to the dashboard), not an API key.")
                )
            # An owner-only operation answers a key only under the billing scope, which only an
            # owner can give a key (services.api_key_create).
            if role == Role.OWNER and scope != APIKeyScope.BILLING:
                raise exceptions.PermissionDenied(
                    _("This needs an owner's session, not an API key.")
                )
            return
        membership = membership_for_slug(user=request.user, slug=slug)
        if membership is None:
            raise Http404("No such organisation")
        self.organization = membership.organization
        self.membership = membership
        if not membership.has_role(role):
            raise exceptions.PermissionDenied(
                _("This needs the %(role)s role.") % {"role": Role(role).label.lower()}
            )

    def required_scope(self, request: Request) -> str:
        """The scope an API key needs here: the view's `api_scope`, else read for safe methods
        and write for the others."""
        if self.api_scope:
            return self.api_scope
        return APIKeyScope.READ if request.method in SAFE_METHODS else APIKeyScope.WRITE

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replay):
            return exc.response  # type: ignore[return-value]
        if isinstance(exc, ObjectDoesNotExist):
            exc = exceptions.NotFound()
        elif isinstance(exc, DjangoValidationError):
            detail: dict[str, Any] = (
                dict(exc.message_dict) if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            )
            if "__all__" in detail:
                detail["non_field_errors"] = detail.pop("__all__")
            exc = exceptions.ValidationError(detail)
        elif isinstance(exc, RequestDataTooBig):
            # 413, not 400: the request may be fine, only too large to read; the client can tell.
            exc = RequestTooLarge(
                _("The request body is larger than the limit of %(limit)d bytes.")
                % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
            )
        elif isinstance(exc, TooManyFieldsSent):
            exc = exceptions.ParseError(
                _("The request has more than %(limit)d form fields.")
                % {"limit": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
            )
        elif isinstance(exc, TooManyFilesSent):
            exc = exceptions.ParseError(
                _("The request has more than %(limit)d files.")
                % {"limit": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
            )
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # An error answer a view built itself (a 409 with its reason) gets the API's one shape.
        if isinstance(response, Response):
            response = as_problem(response)
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._idempotency_claim is not None:
            idempotency.record(self._idempotency_claim, response)
        return response
