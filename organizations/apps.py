from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "organizations"

    def ready(self) -> None:
        from .api import schema  # noqa: F401 - registers the API key scheme with drf-spectacular
