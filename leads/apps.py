from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        # The segment preview's cost estimate uses the real recent verification rate.
        from segments.estimates import verification_rate_provider_register

        from .selectors import verification_rate_recent

        verification_rate_provider_register(verification_rate_recent)
