"""API of the organisation itself, mounted under /api/v1/orgs/<org_slug>/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.OrganizationDetailAPI.as_view(), name="api-organization"),
    path("members/", views.MemberListAPI.as_view(), name="api-members"),
    path("members/<int:membership_id>/", views.MemberDetailAPI.as_view(), name="api-member-detail"),
    path("invitations/", views.InvitationListCreateAPI.as_view(), name="api-invitations"),
    path(
        "invitations/<int:invitation_id>/",
        views.InvitationDetailAPI.as_view(),
        name="api-invitation-detail",
    ),
    path("api-keys/", views.APIKeyListCreateAPI.as_view(), name="api-api-keys"),
    path("api-keys/<slug:key_id>/", views.APIKeyDetailAPI.as_view(), name="api-api-key-detail"),
]
