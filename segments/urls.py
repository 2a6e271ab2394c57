"""Dashboard pages of segments, mounted under /o/<org_slug>/segments/."""

from django.urls import path

from . import views

app_name = "segments"

urlpatterns = [
    path("segments/", views.SegmentListView.as_view(), name="list"),
    path("segments/new/", views.SegmentCreateView.as_view(), name="create"),
    path("segments/preview/", views.SegmentPreviewView.as_view(), name="preview"),
    path("segments/options/", views.SegmentPickerOptionsView.as_view(), name="picker-options"),
    path("segments/<int:segment_id>/", views.SegmentEditView.as_view(), name="edit"),
    path(
        "segments/<int:segment_id>/preview/",
        views.SegmentSavedPreviewView.as_view(),
        name="saved-preview",
    ),
    *(
        path(
            f"segments/<int:segment_id>/{action}/",
            views.SegmentTransitionView.as_view(transition=action),
            name=action,
        )
        for action in ("activate", "pause", "archive")
    ),
]
