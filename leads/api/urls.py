"""Leads API, mounted under /api/v1/orgs/<org_slug>/ (namespace "leads-api")."""

from django.urls import path

from . import views

app_name = "leads-api"

urlpatterns = [
    path("leads/", views.LeadListAPI.as_view(), name="lead-list"),
    path("leads/bulk/", views.LeadBulkActionAPI.as_view(), name="lead-bulk"),
    path("leads/export/", views.LeadExportAPI.as_view(), name="lead-export"),
    path("leads/<int:lead_id>/", views.LeadDetailAPI.as_view(), name="lead-detail"),
    path("leads/<int:lead_id>/approve/", views.LeadApproveAPI.as_view(), name="lead-approve"),
    path("leads/<int:lead_id>/reject/", views.LeadRejectAPI.as_view(), name="lead-reject"),
    path("leads/<int:lead_id>/move/", views.LeadMoveAPI.as_view(), name="lead-move"),
    path(
        "leads/<int:lead_id>/contacted/",
        views.LeadContactedAPI.as_view(),
        name="lead-contacted",
    ),
    path("calendar/", views.CalendarAPI.as_view(), name="calendar"),
    path("runs/", views.SearchRunListAPI.as_view(), name="run-list"),
    path("runs/<int:run_id>/", views.SearchRunDetailAPI.as_view(), name="run-detail"),
]
