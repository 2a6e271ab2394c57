"""Dashboard pages of the organisation itself, mounted under /o/<org_slug>/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.OrgHomeView.as_view(), name="org-home"),
]
