"""API of the organisation itself, mounted under /api/v1/orgs/<org_slug>/."""

urlpatterns: list = []
