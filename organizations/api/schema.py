"""OpenAPI description of the API key scheme (imported by the app config) and of the error
answers every operation can give."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class OrganizationAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "organizations.api.authentication.OrganizationAPIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Authorization: Api-Key <key>`. Keys are created on the dashboard's API keys "
                "page; a key works only under its own organisation's URLs."
            ),
        }


def lib_doc_excludes() -> list[type]:
    """Classes whose docstrings never become an operation's description: drf-spectacular's own
    list plus the API base classes, whose docstrings are for developers (views without a docstring
    of their own showed it in the public API docs)."""
    from drf_spectacular.plumbing import get_lib_doc_excludes

    from .base import OrgAPIView
    from .lists import OrgListAPIView

    return [*get_lib_doc_excludes(), OrgListAPIView, OrgAPIView]


class ProblemAutoSchema(AutoSchema):
    """Every operation documents its error answers as RFC 9457 problems
    (application/problem+json, organizations/api/problems.py): the ones a view declares keep their
    description, and the ones any operation can give are added (400, 401, 403, 404, 406, 429, and
    415 and 422 where a request body or an Idempotency-Key is read)."""

    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        """The operation, its description ending with what an API key needs for it."""
        operation = super().get_operation(*args, **kwargs)
        if operation:
            description = operation.get("description", "")
            operation["description"] = f"{description}\n\n{self._key_requirement()}".strip()
            operation["x-api-key-scope"] = self._key_scope()
        return operation

    def _key_scope(self) -> str:
        from ..models import APIKeyScope

        safe = self.method in ("GET", "HEAD", "OPTIONS")
        scope = getattr(self.view, "api_scope", None)
        return str(scope or (APIKeyScope.READ if safe else APIKeyScope.WRITE))

    def _key_requirement(self) -> str:
        from ..models import APIKeyScope, Role

        view = self.view
        safe = self.method in ("GET", "HEAD", "OPTIONS")
        if not safe and not getattr(view, "allow_api_key_writes", True):
            return str(_("API keys: not accepted; a person's session only."))
        scope = self._key_scope()
        role = getattr(view, "required_role", Role.MEMBER)
        if not safe and getattr(view, "required_role_for_write", None):
            role = view.required_role_for_write
        if role == Role.OWNER and scope != APIKeyScope.BILLING:
            return str(_("API keys: not accepted; an owner's session only."))
        return str(_("API key scope: `%(scope)s`.") % {"scope": scope})

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        from .problems import ProblemSerializer

        responses = super()._get_response_bodies(direction)
        problem_ref = self.resolve_serializer(ProblemSerializer, "response").ref
        content = {"application/problem+json": {"schema": problem_ref}}
        for code, response in list(responses.items()):
            if code.isdigit() and int(code) >= 400:
                responses[code] = {**response, "content": content}
        standard = {
            "400": _("Invalid input or query: `errors` names each field."),
            "401": _("No credentials, or an invalid, revoked or expired API key."),
            "403": _("The role, or the API key's scopes, do not allow this."),
            "404": _("No such organisation or object (another organisation's answers the same)."),
            "406": _("The Accept header asks for a format this operation does not give."),
            "429": _("Too many requests; Retry-After says when to retry."),
        }
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            standard["415"] = _("A content type the operation does not read.")
            standard["422"] = _("This Idempotency-Key was used with another request.")
        for code, description in standard.items():
            if code not in responses:
                responses[code] = {"description": description, "content": content}
        return responses
