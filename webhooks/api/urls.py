"""Webhooks API, mounted under /api/v1/orgs/<org_slug>/."""

from django.urls import path

from . import views

app_name = "webhooks-api"

urlpatterns = [
    path("webhooks/", views.EndpointListCreateAPI.as_view(), name="list"),
    path("webhooks/<int:webhook_id>/", views.EndpointDetailAPI.as_view(), name="detail"),
    path(
        "webhooks/<int:webhook_id>/rotate-secret/",
        views.EndpointRotateSecretAPI.as_view(),
        name="rotate-secret",
    ),
    path("webhooks/<int:webhook_id>/test/", views.EndpointTestAPI.as_view(), name="test"),
    path(
        "webhooks/<int:webhook_id>/deliveries/",
        views.DeliveryListAPI.as_view(),
        name="deliveries",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries/<int:webhook_delivery_id>/redeliver/",
        views.DeliveryRedeliverAPI.as_view(),
        name="redeliver",
    ),
]
