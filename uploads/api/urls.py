from django.urls import path

from . import views

app_name = "uploads-api"

urlpatterns = [
    path("uploads/", views.UploadListCreateAPI.as_view(), name="list"),
    path("uploads/<int:upload_id>/", views.UploadDetailAPI.as_view(), name="detail"),
    path("uploads/<int:upload_id>/start/", views.UploadStartAPI.as_view(), name="start"),
    path("uploads/<int:upload_id>/cancel/", views.UploadCancelAPI.as_view(), name="cancel"),
    path(
        "uploads/<int:upload_id>/results.csv",
        views.UploadResultsCSVAPI.as_view(),
        name="results-csv",
    ),
]
