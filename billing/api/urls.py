"""Billing API, mounted under /api/v1/orgs/<org_slug>/ (namespace "billing-api")."""

from django.urls import path

from . import views

app_name = "billing-api"

urlpatterns = [
    path(
        "leads/<int:lead_id>/disputes/",
        views.LeadDisputeCreateAPI.as_view(),
        name="lead-dispute-create",
    ),
    path("disputes/", views.DisputeListAPI.as_view(), name="dispute-list"),
    path("disputes/<int:dispute_id>/", views.DisputeDetailAPI.as_view(), name="dispute-detail"),
    path("bounces/", views.BounceReportAPI.as_view(), name="bounces"),
    path("usage/", views.UsageAPI.as_view(), name="usage"),
    path("billing/", views.BillingAPI.as_view(), name="billing"),
    path("billing/invoices/", views.InvoiceListAPI.as_view(), name="invoice-list"),
]
