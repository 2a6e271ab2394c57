from django.urls import path

from . import views

app_name = "privacy-org"

urlpatterns = [
    path("privacy/dpa/", views.DpaView.as_view(), name="dpa"),
]
