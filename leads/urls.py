"""Dashboard pages of the leads app, mounted under /o/<org_slug>/ (namespace "leads")."""

from django.urls import path

from . import views

app_name = "leads"

urlpatterns = [
    path("queue/", views.QueueView.as_view(), name="queue"),
    path("queue/bulk/", views.BulkActionView.as_view(), name="bulk"),
    path("leads/", views.LeadListView.as_view(), name="list"),
    path("leads/export.csv", views.LeadExportView.as_view(), name="export"),
    path("leads/<int:lead_id>/", views.LeadDetailView.as_view(), name="detail"),
    path("leads/<int:lead_id>/approve/", views.LeadApproveView.as_view(), name="approve"),
    path("leads/<int:lead_id>/reject/", views.LeadRejectView.as_view(), name="reject"),
    path("leads/<int:lead_id>/move/", views.LeadMoveView.as_view(), name="move"),
    path("leads/<int:lead_id>/contacted/", views.LeadContactedView.as_view(), name="contacted"),
    path("leads/<int:lead_id>/notes/", views.LeadNotesView.as_view(), name="notes"),
    path("calendar/", views.CalendarView.as_view(), name="calendar"),
    path("calendar/feed/", views.CalendarFeedResetView.as_view(), name="calendar-feed-reset"),
    path("runs/", views.RunListView.as_view(), name="runs"),
    path("runs/<int:run_id>/", views.RunDetailView.as_view(), name="run-detail"),
]
