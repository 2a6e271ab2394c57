"""The language of a request: the person's choice, kept where the visitor allowed it.

Contract (README, "Translations"):
- A logged-in person's language is `User.language` (their profile); blank follows the browser.
- The switch (`language_set`, POST /i18n/setlang/) stores a choice on the profile when logged in,
  for the browser session in the session (a user-interface preference the visitor asked for,
  which needs no consent), and in the year-long `django_language` cookie only once the visitor
  allowed the functional cookie category (privacy/consent.py). A `django_language` cookie without
  that consent (withdrawn later) is not read, and is deleted.
- Otherwise the browser's Accept-Language picks among settings.LANGUAGES; else LANGUAGE_CODE.
`UserLocaleMiddleware` replaces Django's LocaleMiddleware and must run after the session and
authentication middleware, since it reads both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_POST

from privacy.consent import FUNCTIONAL, consent_allows

from .services import user_language_set

# The session's copy of the switch's choice (Django's own LANGUAGE_SESSION_KEY was removed).
SESSION_KEY = "_language"


def language_supported(code: str | None) -> str | None:
    """`code` as one of settings.LANGUAGES (sv-SE -> sv), or None when we do not ship it."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def _from_accept_language(request: HttpRequest) -> str | None:
    header = request.headers.get("Accept-Language", "")
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        supported = language_supported(code)
        if supported:
            return supported
    return None


def _cookie_allowed(request: HttpRequest) -> bool:
    return consent_allows(request, FUNCTIONAL)


def language_of_request(request: HttpRequest) -> str:
    """The language this request's pages are rendered in (see the module's contract)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        chosen = language_supported(getattr(user, "language", ""))
        if chosen:
            return chosen
    session = getattr(request, "session", None)
    if session is not None:
        chosen = language_supported(session.get(SESSION_KEY))
        if chosen:
            return chosen
    if _cookie_allowed(request):
        chosen = language_supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
        if chosen:
            return chosen
    return _from_accept_language(request) or settings.LANGUAGE_CODE


class UserLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, choosing by `language_of_request` (profile, session, cookie with
    consent, Accept-Language) instead of by the cookie alone."""

    def process_request(self, request: HttpRequest) -> None:
        language = language_of_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response = super().process_response(request, response)
        name = settings.LANGUAGE_COOKIE_NAME
        if name in request.COOKIES and not _cookie_allowed(request):
            response.delete_cookie(name, path=settings.LANGUAGE_COOKIE_PATH)
        return response


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The language switch: stores the choice (profile, session, cookie if allowed) and goes back
    to `next`. An unknown language changes nothing."""
    next_url = request.POST.get("next") or request.headers.get("Referer") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    code = language_supported(request.POST.get("language"))
    if code is None or code not in dict(settings.LANGUAGES):
        return response
    user = request.user
    if user.is_authenticated and hasattr(user, "language"):
        user_language_set(user=user, language=code)
    request.session[SESSION_KEY] = code
    if _cookie_allowed(request):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            secure=settings.LANGUAGE_COOKIE_SECURE or request.is_secure(),
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


def recipient_language(language: str | None) -> str:
    """The language to write to someone whose profile says `language` (blank: LANGUAGE_CODE)."""
    return language_supported(language) or settings.LANGUAGE_CODE


def mail_per_language(
    recipients: Iterable[tuple[str, str]], render: Callable[[], tuple[str, str]]
) -> list[tuple[str, str, str, list[str]]]:
    """send_mass_mail's messages, one per (address, profile language) recipient, each written in
    that person's language: `render()` -> (subject, body) runs once per language, inside
    translation.override. Members do not see each other's addresses."""
    rendered: dict[str, tuple[str, str]] = {}
    messages = []
    for email, language in recipients:
        code = recipient_language(language)
        if code not in rendered:
            with translation.override(code):
                subject, body = render()
            rendered[code] = (" ".join(str(subject).split()), str(body))
        subject, body = rendered[code]
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [email]))
    return messages
