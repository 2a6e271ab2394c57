from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # The segment preview's cost estimate uses the ledger's quota left this month.
        from django.utils import timezone

        from segments.estimates import quota_remaining_provider_register

        from .selectors import billing_quota_remaining

        def quota_left(*, organization):  # type: ignore[no-untyped-def]
            return billing_quota_remaining(organization=organization, at=timezone.now())

        quota_remaining_provider_register(quota_left)
