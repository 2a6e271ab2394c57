from django.urls import path

from . import views

app_name = "blocklists-api"

urlpatterns = [
    path("block-entries/", views.BlockEntryListCreateAPI.as_view(), name="list"),
    path("block-entries/import/", views.BlockEntryImportAPI.as_view(), name="import"),
    path("block-entries/export/", views.BlockEntryExportAPI.as_view(), name="export"),
    path("block-entries/<int:entry_id>/", views.BlockEntryDetailAPI.as_view(), name="detail"),
]
