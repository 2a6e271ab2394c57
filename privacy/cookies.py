"""Every cookie this application sets, in one registry: the cookie policy (/cookies/) is generated
from it, and tests/privacy/test_public_pages.py fails when a response sets a cookie it does not
list. Add a cookie here in the change that starts setting it."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .consent import CONSENT_COOKIE, FUNCTIONAL, NECESSARY, STATISTICS

# Set by static/js/stats.js, the first-party statistics script (category statistics).
STATS_COOKIE = "lp_stats"


@dataclass(frozen=True)
class CookieInfo:
    name: str
    category: str
    purpose: Promise
    storage: Promise
    first_party: bool = True


def _days(seconds: int) -> int:
    return max(1, round(seconds / 86400))


def cookies_registry() -> list[CookieInfo]:
    """The cookies, with their storage time from the settings that decide it."""
    session_days = _days(settings.SESSION_COOKIE_AGE)
    csrf_days = _days(settings.CSRF_COOKIE_AGE)
    language_age = settings.LANGUAGE_COOKIE_AGE
    language_days = _days(language_age) if language_age else 0
    return [
        CookieInfo(
            name=settings.SESSION_COOKIE_NAME,
            category=NECESSARY,
            purpose=_(
                "Keeps you logged in, and remembers choices you made during your visit (such "
                "as the language you switched to)."
            ),
            storage=_("%(days)s days, or until you log out") % {"days": session_days},
        ),
        CookieInfo(
            name=settings.CSRF_COOKIE_NAME,
            category=NECESSARY,
            purpose=_(
                "Protects forms against cross-site request forgery: a form is accepted only "
                "from a page of this site."
            ),
            storage=_("%(days)s days") % {"days": csrf_days},
        ),
        CookieInfo(
            name=CONSENT_COOKIE,
            category=NECESSARY,
            purpose=_(
                "Remembers your cookie choice, when you made it and under which policy version."
            ),
            storage=_("1 year, or until the policy changes"),
        ),
        CookieInfo(
            name=settings.LANGUAGE_COOKIE_NAME,
            category=FUNCTIONAL,
            purpose=_(
                "Remembers the language you chose. Set only when you allow functional cookies."
            ),
            storage=(
                _("%(days)s days") % {"days": language_days}
                if language_days
                else _("Until you close the browser")
            ),
        ),
        CookieInfo(
            name=STATS_COOKIE,
            category=STATISTICS,
            purpose=_(
                "Counts your page views on this site (a number, nothing else) for our own "
                "statistics. Set by our first-party statistics script, which runs only when you "
                "allow statistics; removed when you withdraw."
            ),
            storage=_("1 year"),
        ),
    ]
