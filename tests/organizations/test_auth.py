"""Log-in, lockout, password reset, and the production settings' deploy check."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from tests.conftest import PASSWORD

ROOT = settings.BASE_DIR


def test_login_page_logs_in_and_lands_on_the_dashboard(client, tenant_a):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "Forgot your password?" in page.content.decode()
    response = client.post(
        reverse("login"), {"username": "Owner@Alpha.example", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("org-home", kwargs={"org_slug": "alpha"})
    assert "Alpha" in response.content.decode()


def test_lockout_after_repeated_failures(client, tenant_a):
    login = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(login, {"username": "owner@alpha.example", "password": "wrong"})
        assert response.status_code == 200
        assert "Please enter a correct" in response.content.decode()
    response = client.post(login, {"username": "owner@alpha.example", "password": "wrong"})
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    # Locked: even the right password is refused now.
    response = client.post(login, {"username": "owner@alpha.example", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Case variants of the address count as the same account.
    response = client.post(login, {"username": "OWNER@alpha.example", "password": PASSWORD})
    assert response.status_code == 429
    # Another account from the same address is not locked (lockout is per username + IP).
    response = client.post(login, {"username": "admin@alpha.example", "password": PASSWORD})
    assert response.status_code == 302


def test_behind_a_proxy_one_client_cannot_lock_another_out(client, tenant_a, settings):
    # Production runs behind a TLS proxy, so REMOTE_ADDR is the proxy's for everyone; the client is
    # the proxy's X-Forwarded-For entry. A stranger's failures must not lock the owner out.
    settings.LEADPILOT_TRUSTED_PROXIES = 1
    login = reverse("login")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    wrong = {"username": "owner@alpha.example", "password": "wrong"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(login, wrong, **proxy, HTTP_X_FORWARDED_FOR="203.0.113.66")
    assert response.status_code == 429
    # Forging an earlier X-Forwarded-For entry does not give the stranger fresh attempts.
    response = client.post(login, wrong, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.66")
    assert response.status_code == 429
    owner = {"username": "owner@alpha.example", "password": PASSWORD}
    response = client.post(login, owner, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 302


def test_password_reset_by_email(client, tenant_a, mailoutbox):
    page = client.get(reverse("password_reset"))
    assert "Reset your password" in page.content.decode()
    response = client.post(reverse("password_reset"), {"email": "member@alpha.example"})
    assert response.status_code == 302
    assert "Check your e-mail" in client.get(response.url).content.decode()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["member@alpha.example"]
    assert mail.subject == "Reset your LeadPilot password"
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", mail.body).group(1)

    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    set_password_url = form.redirect_chain[-1][0]
    response = client.post(
        set_password_url,
        {"new_password1": "brand new pass phrase", "new_password2": "brand new pass phrase"},
        follow=True,
    )
    assert "Your password was changed" in response.content.decode()
    # The link is used up, and the new password logs in.
    assert "does not work any more" in client.get(link, follow=True).content.decode()
    client.logout()
    response = client.post(
        reverse("login"),
        {"username": "member@alpha.example", "password": "brand new pass phrase"},
    )
    assert response.status_code == 302


def test_password_reset_for_unknown_address_sends_nothing_and_says_the_same(client, db, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert "Check your e-mail" in response.content.decode()
    assert mailoutbox == []


def test_password_reset_mails_an_address_at_most_once_per_interval(client, tenant_a, mailoutbox):
    # Anyone can ask; without a limit a stranger could flood a user's mailbox with reset links.
    for _ in range(5):
        response = client.post(reverse("password_reset"), {"email": "member@alpha.example"})
        assert response.status_code == 302  # the same answer every time
    client.post(reverse("password_reset"), {"email": "admin@alpha.example"})
    assert [m.to for m in mailoutbox] == [["member@alpha.example"], ["admin@alpha.example"]]
    cache.clear()  # the interval has passed
    client.post(reverse("password_reset"), {"email": "Member@Alpha.example"})
    assert len(mailoutbox) == 3


def _deploy_check(**overrides: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "DJANGO_SETTINGS_MODULE": "leadpilot.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"),
        "EMAIL_URL": "smtp://mailer:secret@smtp.example.com:587",
        **overrides,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = _deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_catches_a_weak_secret():
    # Proves the check above can fail: the same run with a short key is refused.
    result = _deploy_check(DJANGO_SECRET_KEY="short")
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret():
    result = _deploy_check(DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_password_change_from_the_dashboard(tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    page = client.get(reverse("password_change"))
    assert "Change your password" in page.content.decode()
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a different pass phrase",
            "new_password2": "a different pass phrase",
        },
        follow=True,
    )
    assert "Your password was changed" in response.content.decode()
    tenant_a.member.refresh_from_db()
    assert tenant_a.member.check_password("a different pass phrase")
