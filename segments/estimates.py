"""Inputs of the preview's cost estimate, with plug points for the apps that know better.

segments may not import leads or billing (dependencies point the other way), so those apps
register their providers here from their AppConfig.ready():

    from segments.estimates import verification_rate_provider_register
    verification_rate_provider_register(my_rate)   # (organization, segment|None) -> float|None

Until then: DEFAULT_VERIFICATION_RATE, and the quota left this month from the delivery record
(one delivered lead = one charged lead) against Organization.monthly_lead_quota or
settings.LEADPILOT_DEFAULT_MONTHLY_LEAD_QUOTA.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone

from blocklists.models import DeliveryRecord
from organizations.models import Organization

# Share of matched candidates whose decision-maker contact ends up verified (charged), used until
# the nightly search records real rates.
DEFAULT_VERIFICATION_RATE = 0.35

RateProvider = Callable[..., float | None]
QuotaProvider = Callable[..., int | None]
_rate_provider: RateProvider | None = None
_quota_provider: QuotaProvider | None = None


def verification_rate_provider_register(provider: RateProvider | None) -> None:
    """Plug the recent verification rate: provider(organization=, segment=) -> float | None."""
    global _rate_provider
    _rate_provider = provider


def quota_remaining_provider_register(provider: QuotaProvider | None) -> None:
    """Plug the quota left this period: provider(organization=) -> int | None."""
    global _quota_provider
    _quota_provider = provider


def verification_rate(*, organization: Organization, segment: Any = None) -> float:
    if _rate_provider is not None:
        rate = _rate_provider(organization=organization, segment=segment)
        if rate is not None:
            return min(max(float(rate), 0.0), 1.0)
    return DEFAULT_VERIFICATION_RATE


def monthly_quota(*, organization: Organization) -> int:
    if organization.monthly_lead_quota is not None:
        return organization.monthly_lead_quota
    return settings.LEADPILOT_DEFAULT_MONTHLY_LEAD_QUOTA


def quota_remaining(*, organization: Organization) -> int:
    if _quota_provider is not None:
        remaining = _quota_provider(organization=organization)
        if remaining is not None:
            return max(int(remaining), 0)
    now = timezone.now().astimezone(organization.tz)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    used = (
        DeliveryRecord.objects.for_org(organization)
        .filter(delivered_at__gte=month_start.astimezone(dt.UTC))
        .count()
    )
    return max(monthly_quota(organization=organization) - used, 0)
