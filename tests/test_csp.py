"""Content-Security-Policy: every response carries the strict policy, and no template relies on
what it forbids (inline handlers, inline <script> or <style>, style attributes, javascript: URLs).
The browser side (no violation on the pages, the docs and the admin) is in
tests/leads/test_browser_csp.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_of(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return dict(parts)


@pytest.mark.django_db
def test_every_response_carries_the_strict_policy(tenant_a, tenant_b, client):
    anonymous = [
        ("/accounts/login/", 200),
        ("/accounts/signup/", 200),
        ("/o/alpha/", 302),  # to the login page
        ("/api/v1/orgs/alpha/", 401),
        ("/admin/login/", 200),
        ("/no-such-page/", 404),
    ]
    for url, status in anonymous:
        response = client.get(url)
        assert response.status_code == status, url
        assert policy_of(response) == EXPECTED, url

    owner = tenant_a.client_for(tenant_a.owner)
    for url, status in [
        ("/o/alpha/", 200),
        ("/o/alpha/segments/new/", 200),
        ("/o/alpha/calendar/", 200),
        ("/o/bravo/", 404),
        ("/api/v1/orgs/alpha/", 200),
        ("/api/docs/", 200),
        ("/api/docs/?script=", 200),  # Swagger UI's set-up script, a file of its own
    ]:
        response = owner.get(url)
        assert response.status_code == status, url
        assert policy_of(response) == EXPECTED, url


@pytest.mark.django_db
def test_the_api_docs_page_runs_no_inline_code(tenant_a):
    """Swagger UI starts from a script file served by this app, styled from files: no nonce, no
    exception to the policy."""
    owner = tenant_a.client_for(tenant_a.owner)
    html = owner.get("/api/docs/").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html
    script = owner.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


# What a policy without 'unsafe-inline' blocks, as it appears in a template.
INLINE = {
    "inline handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_no_template_relies_on_inline_code():
    found = []
    for template in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        # Comments may name what they avoid ("its inline <style> moved to a static file").
        text = re.sub(
            r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", "", template.read_text(), flags=re.S
        )
        text = re.sub(r"\{#.*?#\}", "", text)
        for number, line in enumerate(text.splitlines(), 1):
            found += [
                f"{template.relative_to(settings.BASE_DIR)}:{number}: {what}"
                for what, pattern in INLINE.items()
                if pattern.search(line)
            ]
    assert found == []


def test_no_script_adds_inline_styles_or_evaluates_code():
    """app.js sets behaviour by listeners, and htmx is told not to inject its indicator <style>
    nor to evaluate attribute code (base.html's htmx-config)."""
    for script in Path(settings.BASE_DIR, "static").rglob("*.js"):
        text = script.read_text()
        assert not re.search(r"\beval\(|new Function\(|\.innerHTML\s*=.*<style", text), script
    base = Path(settings.BASE_DIR, "templates", "base.html").read_text()
    assert '"includeIndicatorStyles": false' in base
    assert '"allowEval": false' in base
