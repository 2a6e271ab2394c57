from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import FormView, TemplateView

from .forms import SignUpForm
from .selectors import memberships_of_user
from .services import organization_create_with_owner
from .views_base import OrgViewMixin


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: the database and, when configured, the Celery broker."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # a health check reports, it does not raise
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.CELERY_BROKER_URL:
        from leadpilot.celery import app

        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {exc.__class__.__name__}"
    else:
        checks["broker"] = "eager (no broker configured)"
    healthy = all(v == "ok" or v.startswith("eager") for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


def home(request: HttpRequest) -> HttpResponse:
    """/ : the user's first organisation, or the login page."""
    if not request.user.is_authenticated:
        return redirect("login")
    first = memberships_of_user(user=request.user).first()
    if first is None:
        return redirect("signup")
    return redirect("org-home", org_slug=first.organization.slug)


class SignUpView(FormView):
    template_name = "registration/signup.html"
    form_class = SignUpForm

    def form_valid(self, form: SignUpForm) -> HttpResponse:
        organization, user = organization_create_with_owner(
            name=form.cleaned_data["organization_name"],
            owner_email=form.cleaned_data["email"],
            owner_password=form.cleaned_data["password"],
            owner_name=form.cleaned_data["full_name"],
        )
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        return HttpResponseRedirect(reverse("org-home", kwargs={"org_slug": organization.slug}))


class OrgHomeView(OrgViewMixin, TemplateView):
    template_name = "organizations/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs)
