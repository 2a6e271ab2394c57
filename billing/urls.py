"""Dashboard pages of billing, mounted under /o/<org_slug>/ (namespace "billing")."""

from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("usage/", views.UsageView.as_view(), name="usage"),
    path("disputes/", views.DisputeListView.as_view(), name="disputes"),
    path("disputes/bounces/", views.BounceReportView.as_view(), name="bounces"),
    path("billing/", views.BillingView.as_view(), name="billing"),
    path("billing/plan/", views.BillingPlanView.as_view(), name="billing-plan"),
    path("billing/portal/", views.BillingPortalView.as_view(), name="billing-portal"),
    path("leads/<int:lead_id>/dispute/", views.LeadDisputeView.as_view(), name="lead-dispute"),
]
