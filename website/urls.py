from django.urls import path

from . import views

app_name = "website"

urlpatterns = [
    path("pricing/", views.pricing, name="pricing"),
    path("what-counts-as-a-lead/", views.what_counts, name="what-counts"),
    path("terms/", views.terms, name="terms"),
]
