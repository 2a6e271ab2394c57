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
            standard["409"] = _("A request with this Idempotency-Key is still in progress.")
            standard["415"] = _("A content type the operation does not read.")
            standard["422"] = _("This Idempotency-Key was used with another request.")
        for code, description in standard.items():
            if code not in responses:
                responses[code] = {"description": description, "content": content}
        return responses
