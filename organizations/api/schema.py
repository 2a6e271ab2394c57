"""OpenAPI description of the API key scheme (imported by the app config)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
