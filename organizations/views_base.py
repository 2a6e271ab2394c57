"""Base classes for dashboard pages under /o/<slug>/.

The organisation comes from the URL and is checked once, here, against the user's membership.
A slug the user is not a member of answers 404, exactly like a slug that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Membership, Organization, Role
from .selectors import membership_for_slug


class OrgViewMixin(LoginRequiredMixin):
    """Sets `self.organization` and `self.membership`; enforces `required_role`.

    `required_role` applies to every method; `required_role_for_write` (optional) to unsafe methods.
    """

    required_role: str = Role.MEMBER
    required_role_for_write: str | None = None
    organization: Organization
    membership: Membership

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        membership = membership_for_slug(user=request.user, slug=kwargs.get("org_slug", ""))
        if membership is None:
            raise Http404("No such organisation")
        self.organization = membership.organization
        self.membership = membership
        request.organization = membership.organization  # type: ignore[attr-defined]
        request.membership = membership  # type: ignore[attr-defined]
        role = self.required_role
        if request.method not in ("GET", "HEAD", "OPTIONS") and self.required_role_for_write:
            role = self.required_role_for_write
        if not membership.has_role(role):
            raise PermissionDenied(
                _("This needs the %(role)s role.") % {"role": Role(role).label.lower()}
            )
        # Pages show times in the organisation's time zone. Render inside the override: a
        # TemplateResponse would otherwise render after it ended.
        with timezone.override(membership.organization.tz):
            response = super().dispatch(request, *args, **kwargs)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["organization"] = self.organization
        context["membership"] = self.membership
        return context
