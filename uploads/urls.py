"""Dashboard pages of own-list uploads, mounted under /o/<org_slug>/uploads/."""

from django.urls import path

from . import views

app_name = "uploads"

urlpatterns = [
    path("uploads/", views.UploadListView.as_view(), name="list"),
    path("uploads/<int:upload_id>/", views.UploadDetailView.as_view(), name="detail"),
    path("uploads/<int:upload_id>/progress/", views.UploadProgressView.as_view(), name="progress"),
    path("uploads/<int:upload_id>/start/", views.UploadStartView.as_view(), name="start"),
    path("uploads/<int:upload_id>/cancel/", views.UploadCancelView.as_view(), name="cancel"),
    path(
        "uploads/<int:upload_id>/results.csv",
        views.UploadResultsCSVView.as_view(),
        name="results-csv",
    ),
]
