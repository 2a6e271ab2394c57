"""Dashboard pages of billing, mounted under /o/<org_slug>/ (namespace "billing")."""

from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("usage/", views.UsageView.as_view(), name="usage"),
    path("disputes/", views.DisputeListView.as_view(), name="disputes"),
    path("disputes/bounces/", views.BounceReportView.as_view(), name="bounces"),
    path("leads/<int:lead_id>/dispute/", views.LeadDisputeView.as_view(), name="lead-dispute"),
]
