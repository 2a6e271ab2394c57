"""Dashboard pages of the block list, mounted under /o/<org_slug>/block-list/."""

from django.urls import path

from . import views

app_name = "blocklists"

urlpatterns = [
    path("block-list/", views.BlockListView.as_view(), name="list"),
    path("block-list/add/", views.BlockAddView.as_view(), name="add"),
    path("block-list/import/", views.BlockImportView.as_view(), name="import"),
    path("block-list/export.csv", views.BlockExportView.as_view(), name="export"),
    path("block-list/<int:entry_id>/remove/", views.BlockRemoveView.as_view(), name="remove"),
]
