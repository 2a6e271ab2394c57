from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("privacy/opt-out/", views.OptOutView.as_view(), name="optout"),
    path("privacy/opt-out/sent/", views.OptOutSentView.as_view(), name="optout-sent"),
    path(
        "privacy/opt-out/confirm/<str:token>/",
        views.OptOutConfirmView.as_view(),
        name="optout-confirm",
    ),
    path(
        "privacy/sub-processors/",
        views.SubprocessorsView.as_view(),
        name="subprocessors",
    ),
    path("privacy/records/", views.records_of_processing, name="records"),
]
