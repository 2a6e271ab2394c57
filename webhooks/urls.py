"""Dashboard pages of webhooks, mounted under /o/<org_slug>/webhooks/."""

from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("webhooks/", views.EndpointListView.as_view(), name="list"),
    path("webhooks/<int:webhook_id>/", views.EndpointDetailView.as_view(), name="detail"),
    path("webhooks/<int:webhook_id>/rotate/", views.EndpointRotateView.as_view(), name="rotate"),
    path("webhooks/<int:webhook_id>/test/", views.EndpointTestView.as_view(), name="test"),
    path("webhooks/<int:webhook_id>/delete/", views.EndpointDeleteView.as_view(), name="delete"),
    path(
        "webhooks/<int:webhook_id>/deliveries/<int:webhook_delivery_id>/redeliver/",
        views.DeliveryRedeliverView.as_view(),
        name="redeliver",
    ),
]
