"""Public privacy pages (no login): the opt-out form, its confirmation link."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from organizations.auth import SIGNUP_ATTEMPT_WINDOW_SECONDS, client_ip
from organizations.models import Role
from organizations.views_base import OrgViewMixin

from . import selectors, services
from .forms import OptOutForm


def optout_attempt_allowed(request: HttpRequest) -> bool:
    """Count one opt-out attempt from the client address (as sign-up does, its own counter): at
    most LEADPILOT_OPTOUT_ATTEMPTS_PER_HOUR an hour, valid or not, so nobody mass-mails links."""
    digest = hashlib.sha256(client_ip(request).encode()).hexdigest()
    key = f"optout-attempts:{digest}"
    cache.add(key, 0, SIGNUP_ATTEMPT_WINDOW_SECONDS)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, SIGNUP_ATTEMPT_WINDOW_SECONDS)
        attempts = 1
    return attempts <= settings.LEADPILOT_OPTOUT_ATTEMPTS_PER_HOUR


class OptOutView(FormView):
    """/privacy/opt-out/: the answer never depends on whether the directory holds the address
    (services.optout_request does not read the directory)."""

    template_name = "privacy/optout.html"
    form_class = OptOutForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not optout_attempt_allowed(request):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, _("Too many attempts from your network. Try again in an hour."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: OptOutForm) -> HttpResponse:
        try:
            services.optout_request(
                kind=form.cleaned_data["kind"],
                value=form.cleaned_data["value"],
                email=form.cleaned_data.get("email") or "",
                language=translation.get_language() or "",
            )
        except services.OptOutError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.form_invalid(form)
        return HttpResponseRedirect(reverse("privacy:optout-sent"))


class OptOutSentView(TemplateView):
    template_name = "privacy/optout_sent.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["days"] = settings.LEADPILOT_OPTOUT_LINK_DAYS
        return context


class OptOutConfirmView(View):
    """The mailed link. GET shows a button (mail scanners follow links; only a POST confirms)."""

    template_name = "privacy/optout_confirm.html"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return render(request, self.template_name, {"token": token, "done": False})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        confirmed = services.optout_confirm(token=token)
        if confirmed is None:
            return render(request, self.template_name, {"invalid": True}, status=404)
        return render(request, self.template_name, {"done": True})


@staff_member_required
def records_of_processing(request: HttpRequest) -> HttpResponse:
    """Staff: data categories, sources, purposes and retention periods (docs/privacy.md)."""
    return render(request, "privacy/records.html", selectors.records_of_processing())


class SubprocessorsView(TemplateView):
    template_name = "privacy/subprocessors.html"


class DpaView(OrgViewMixin, TemplateView):
    """/o/<slug>/privacy/dpa/: the current agreement for every member; owners accept it."""

    template_name = "privacy/dpa.html"
    required_role_for_write = Role.OWNER

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            version=services.DPA_VERSION,
            dpa_template=f"privacy/dpa/{services.DPA_VERSION}.html",
            accepted=selectors.dpa_current_accepted(organization=self.organization),
            history=selectors.dpa_acceptances(organization=self.organization),
            is_owner=self.membership.has_role(Role.OWNER),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            services.dpa_accept(
                organization=self.organization,
                version=request.POST.get("version", ""),
                accepted_by=request.user,  # type: ignore[arg-type]
            )
        except services.DpaError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Thank you: the agreement is accepted."))
        return redirect("privacy-org:dpa", org_slug=self.organization.slug)
