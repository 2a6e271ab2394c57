"""Dashboard pages of webhooks (owners and admins): endpoints, their secret and delivery log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from organizations.models import Role
from organizations.views_base import OrgViewMixin

from . import selectors, services
from .forms import EndpointEditForm, EndpointForm

PAGE_SIZE = 25


def _form_errors(form: EndpointForm, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class _AdminView(OrgViewMixin, View):
    required_role = Role.ADMIN

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().dispatch(request, *args, **kwargs)
        except ObjectDoesNotExist:
            raise Http404(_("No such webhook endpoint.")) from None

    def detail_url(self, endpoint_id: int) -> str:
        return reverse(
            "webhooks:detail",
            kwargs={"org_slug": self.organization.slug, "webhook_id": endpoint_id},
        )


class EndpointListView(_AdminView):
    def get(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        return self.render_page(EndpointForm())

    def post(self, request: HttpRequest, org_slug: str) -> HttpResponse:
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint = services.endpoint_create(
                    organization=self.organization,
                    url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"],
                    description=form.cleaned_data["description"],
                    created_by=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Endpoint added. Its signing secret is on this page."))
                return redirect(self.detail_url(endpoint.pk))
        return self.render_page(form, status=400)

    def render_page(self, form: EndpointForm, *, status: int = 200) -> HttpResponse:
        endpoints = list(selectors.endpoints_of_organization(organization=self.organization))
        context: dict[str, Any] = {
            "organization": self.organization,
            "membership": self.membership,
            "endpoints": endpoints,
            "form": form,
        }
        return render(self.request, "webhooks/list.html", context, status=status)


class EndpointDetailView(_AdminView):
    def get(self, request: HttpRequest, org_slug: str, webhook_id: int) -> HttpResponse:
        endpoint = selectors.endpoint_get(organization=self.organization, endpoint_id=webhook_id)
        form = EndpointEditForm(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "events": endpoint.events,
                "is_active": endpoint.is_active,
            }
        )
        return self.render_page(endpoint, form)

    def post(self, request: HttpRequest, org_slug: str, webhook_id: int) -> HttpResponse:
        endpoint = selectors.endpoint_get(organization=self.organization, endpoint_id=webhook_id)
        form = EndpointEditForm(request.POST)
        if form.is_valid():
            try:
                services.endpoint_update(
                    organization=self.organization,
                    endpoint_id=endpoint.pk,
                    url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"],
                    description=form.cleaned_data["description"],
                    is_active=form.cleaned_data["is_active"],
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Endpoint saved."))
                return redirect(self.detail_url(endpoint.pk))
        return self.render_page(endpoint, form, status=400)

    def render_page(self, endpoint: Any, form: EndpointForm, *, status: int = 200) -> HttpResponse:
        deliveries = selectors.deliveries_of_endpoint(
            organization=self.organization, endpoint_id=endpoint.pk
        )
        page = Paginator(deliveries, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context: dict[str, Any] = {
            "organization": self.organization,
            "membership": self.membership,
            "endpoint": endpoint,
            "form": form,
            "page": page,
            "deliveries": list(page.object_list),
        }
        return render(self.request, "webhooks/detail.html", context, status=status)


class EndpointRotateView(_AdminView):
    def post(self, request: HttpRequest, org_slug: str, webhook_id: int) -> HttpResponse:
        services.endpoint_secret_rotate(organization=self.organization, endpoint_id=webhook_id)
        messages.success(
            request,
            _(
                "New secret made. The old one keeps signing for the overlap shown, so switch your "
                "receiver to the new one before then."
            ),
        )
        return redirect(self.detail_url(webhook_id))


class EndpointTestView(_AdminView):
    def post(self, request: HttpRequest, org_slug: str, webhook_id: int) -> HttpResponse:
        services.endpoint_test_send(organization=self.organization, endpoint_id=webhook_id)
        messages.success(
            request, _("Test event sent; its attempt appears in the delivery log below.")
        )
        return redirect(self.detail_url(webhook_id))


class EndpointDeleteView(_AdminView):
    def post(self, request: HttpRequest, org_slug: str, webhook_id: int) -> HttpResponse:
        services.endpoint_delete(organization=self.organization, endpoint_id=webhook_id)
        messages.success(request, _("Endpoint deleted."))
        return redirect(reverse("webhooks:list", kwargs={"org_slug": self.organization.slug}))


class DeliveryRedeliverView(_AdminView):
    def post(
        self, request: HttpRequest, org_slug: str, webhook_id: int, webhook_delivery_id: int
    ) -> HttpResponse:
        delivery = selectors.delivery_get(
            organization=self.organization, endpoint_id=webhook_id, delivery_id=webhook_delivery_id
        )
        services.delivery_redeliver(organization=self.organization, delivery_id=delivery.pk)
        messages.success(request, _("Sent again; the new attempt appears in the log."))
        return redirect(self.detail_url(webhook_id))
