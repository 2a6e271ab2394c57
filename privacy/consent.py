"""Cookie consent: the categories, the consent cookie's format and the one question code asks.

Contract (docs/privacy.md, "Cookie consent"):
- Six categories. `necessary` is always allowed (the session, CSRF and the consent cookie itself);
  every other category is allowed only when the visitor chose it under the current
  LEADPILOT_POLICY_VERSION. A choice made under an older version counts as no choice: the banner
  asks again and nothing but `necessary` is allowed until then (fail closed).
- The choice lives in the first-party cookie CONSENT_COOKIE as `<version>|<unix time>|<cat>+<cat>`
  (only characters a cookie carries unquoted), written by the server when the visitor saves a
  choice (privacy.views.ConsentView, which also records the proof, `ConsentRecord`), and read by
  static/js/consent.js to run the scripts of the allowed categories.
- Code that sets a non-necessary cookie or loads a non-necessary script asks
  `consent_allows(request, category)` first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CONSENT_COOKIE = "lp_consent"
# A consent is asked again after a year at the latest (and whenever the policy version changes).
CONSENT_MAX_AGE = dt.timedelta(days=365)

NECESSARY = "necessary"
FUNCTIONAL = "functional"
STATISTICS = "statistics"
AD_TRACKING = "ad_tracking"
AD_MEASUREMENT = "ad_measurement"
PERSONALISED_ADS = "personalised_ads"

# (code, name, description), in the banner's order.
CATEGORIES = (
    (
        NECESSARY,
        _("Necessary"),
        _(
            "Keep you logged in, protect forms against forgery and remember your cookie choice. "
            "The service cannot work without them, so they are always on."
        ),
    ),
    (
        FUNCTIONAL,
        _("Functional"),
        _("Remember settings you chose, such as the language of the pages."),
    ),
    (
        STATISTICS,
        _("Statistics"),
        _(
            "Count visits to pages, first-party and without identifying you, so we learn which "
            "pages help."
        ),
    ),
    (
        AD_TRACKING,
        _("Ad tracking"),
        _("Follow visits across other sites to show our adverts there. Not used today."),
    ),
    (
        AD_MEASUREMENT,
        _("Ad measurement"),
        _("Measure whether an advert led to a visit or a sign-up. Not used today."),
    ),
    (
        PERSONALISED_ADS,
        _("Personalised ads"),
        _("Choose adverts by your interests. Not used today."),
    ),
)
CATEGORY_CODES = tuple(code for code, _name, _description in CATEGORIES)
OPTIONAL_CATEGORIES = tuple(code for code in CATEGORY_CODES if code != NECESSARY)


def policy_version() -> str:
    return str(settings.LEADPILOT_POLICY_VERSION)


@dataclass(frozen=True)
class ConsentChoice:
    """A visitor's saved choice as the cookie carries it."""

    version: str
    given_at: dt.datetime
    categories: frozenset[str]

    @property
    def current(self) -> bool:
        """Given under the policy in force and not older than CONSENT_MAX_AGE."""
        return self.version == policy_version() and (
            timezone.now() - self.given_at < CONSENT_MAX_AGE
        )

    def cookie_value(self) -> str:
        cats = [NECESSARY, *sorted(self.categories - {NECESSARY})]
        return f"{self.version}|{int(self.given_at.timestamp())}|{'+'.join(cats)}"


def consent_parse(value: str | None) -> ConsentChoice | None:
    """The choice a cookie value stands for, or None for a missing or malformed value."""
    if not value:
        return None
    parts = value.split("|")
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit():
        return None
    try:
        given_at = dt.datetime.fromtimestamp(int(parts[1]), tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    categories = frozenset(c for c in parts[2].split("+") if c in CATEGORY_CODES) | {NECESSARY}
    return ConsentChoice(version=parts[0], given_at=given_at, categories=categories)


def consent_of(request: HttpRequest) -> ConsentChoice | None:
    """The request's current choice; None when there is none, or it is stale (ask again)."""
    choice = consent_parse(request.COOKIES.get(CONSENT_COOKIE))
    if choice is None or not choice.current:
        return None
    return choice


def consent_allows(request: HttpRequest, category: str) -> bool:
    """Whether the visitor allowed `category` under the current policy version. `necessary` is
    always allowed; an unknown category raises ValueError (a typo must not read as "no")."""
    if category not in CATEGORY_CODES:
        raise ValueError(f"Unknown consent category {category!r}; one of {CATEGORY_CODES}")
    if category == NECESSARY:
        return True
    choice = consent_of(request)
    return choice is not None and category in choice.categories


CONSENT_ACTIONS = ("all", "necessary", "selected")


def consent_choice_from(*, action: str, selected: list[str]) -> frozenset[str]:
    """The categories an action allows: all, only necessary, or the ticked ones (unknown names
    are ignored). Raises ValueError for an unknown action."""
    if action == "all":
        return frozenset(CATEGORY_CODES)
    if action == "necessary":
        return frozenset({NECESSARY})
    if action == "selected":
        return frozenset(c for c in selected if c in CATEGORY_CODES) | {NECESSARY}
    raise ValueError(f"Unknown consent action {action!r}; one of {CONSENT_ACTIONS}")


def _ip_hash(ip: str) -> str:
    if not ip:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()


def consent_record(
    *, action: str, categories: frozenset[str], user: Any | None, ip: str
) -> ConsentChoice:
    """A visitor saved a cookie choice: write the proof (`ConsentRecord`: time, policy version,
    categories, the user when logged in, the address as a keyed hash) and return the choice the
    caller puts in the consent cookie. Every call writes a row (each choice is proof of its own);
    not idempotent."""
    from .models import ConsentRecord

    now = timezone.now()
    choice = ConsentChoice(version=policy_version(), given_at=now, categories=categories)
    ConsentRecord.objects.create(
        policy_version=choice.version,
        categories=[c for c in CATEGORY_CODES if c in categories],
        action=action,
        user=user if user is not None and user.is_authenticated else None,
        ip_hash=_ip_hash(ip),
    )
    return choice
