from django.urls import path

from . import views

app_name = "segments-api"

urlpatterns = [
    path("segments/", views.SegmentListCreateAPI.as_view(), name="list"),
    path("segments/preview/", views.SegmentDraftPreviewAPI.as_view(), name="preview-draft"),
    path("segments/<int:segment_id>/", views.SegmentDetailAPI.as_view(), name="detail"),
    path("segments/<int:segment_id>/preview/", views.SegmentPreviewAPI.as_view(), name="preview"),
    *(
        path(
            f"segments/<int:segment_id>/{action}/",
            views.SegmentTransitionAPI.as_view(transition=action),
            name=action,
        )
        for action in ("activate", "pause", "archive")
    ),
]
