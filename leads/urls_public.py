"""Leads URLs outside the organisation tree: calendar apps hold only the secret feed URL."""

from django.urls import path

from . import views

urlpatterns = [
    path("calendar-feeds/<str:feed_token>", views.calendar_feed, name="calendar-feed"),
]
