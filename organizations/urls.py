"""Dashboard pages of the organisation itself, mounted under /o/<org_slug>/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.OrgHomeView.as_view(), name="org-home"),
    path("settings/", views.OrgSettingsView.as_view(), name="org-settings"),
    path("members/", views.MembersView.as_view(), name="org-members"),
    path(
        "members/<int:membership_id>/role/",
        views.MemberRoleView.as_view(),
        name="org-member-role",
    ),
    path(
        "members/<int:membership_id>/remove/",
        views.MemberRemoveView.as_view(),
        name="org-member-remove",
    ),
    path("invitations/", views.InvitationsView.as_view(), name="org-invitations"),
    path(
        "invitations/<int:invitation_id>/revoke/",
        views.InvitationRevokeView.as_view(),
        name="org-invitation-revoke",
    ),
    path("api-keys/", views.APIKeysView.as_view(), name="org-api-keys"),
    path(
        "api-keys/<slug:key_id>/revoke/",
        views.APIKeyRevokeView.as_view(),
        name="org-api-key-revoke",
    ),
]
