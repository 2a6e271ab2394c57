from django.urls import path

from . import views, views_public

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

urlpatterns += [
    path("privacy/", views_public.privacy_policy, name="policy"),
    path("cookies/", views_public.cookie_policy, name="cookies"),
    path("privacy/consent/", views_public.consent_save, name="consent"),
]
