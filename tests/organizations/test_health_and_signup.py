import re

from django.urls import reverse

from organizations.models import Membership, Organization, Role, User

from ..conftest import PASSWORD


def test_healthz_reports_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def _link(mail) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", mail.body).group(1)


def test_signup_mails_a_link_that_creates_the_organisation_and_logs_in(client, db, mailoutbox):
    response = client.post(
        reverse("signup"),
        {
            "accept_terms": "on",
            "organization_name": "Nordlys Logistikk",
            "email": "Kari@Nordlys.example",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("signup-sent")
    assert "Check your inbox" in client.get(response.url).content.decode()
    # Nothing exists until the mailbox's holder opens the link and chooses the password.
    assert not Organization.objects.filter(name="Nordlys Logistikk").exists()
    (mail,) = mailoutbox
    assert mail.to == ["kari@nordlys.example"]
    path = _link(mail)
    page = client.get(path)
    assert page.status_code == 200
    assert "Nordlys Logistikk" in page.content.decode()
    response = client.post(
        path, {"full_name": "Kari Nordmann", "password": "a long enough pass phrase"}
    )
    org = Organization.objects.get(name="Nordlys Logistikk")
    assert response.status_code == 302
    assert response.url == reverse("org-home", kwargs={"org_slug": org.slug})
    membership = Membership.objects.for_org(org).get()
    assert membership.user.email == "kari@nordlys.example"
    assert membership.user.full_name == "Kari Nordmann"
    assert membership.role == Role.OWNER
    page = client.get(response.url)
    assert page.status_code == 200
    assert "Nordlys Logistikk" in page.content.decode()
    # The link has done its job: the account exists now.
    again = client.post(path, {"password": "another long pass phrase"})
    assert again.status_code == 400
    assert "exists already" in again.content.decode()
    assert Organization.objects.filter(name="Nordlys Logistikk").count() == 1


def test_signup_answers_the_same_whether_the_address_has_an_account(client, tenant_a, mailoutbox):
    # Issue 12: sign-up said "An account with this e-mail address already exists".
    existing = client.post(
        reverse("signup"),
        {"accept_terms": "on", "organization_name": "X", "email": "Owner@Alpha.example"},
    )
    new = client.post(
        reverse("signup"),
        {"accept_terms": "on", "organization_name": "Y", "email": "new@example.com"},
    )
    assert (existing.status_code, existing.url) == (new.status_code, new.url)
    assert "already exists" not in client.get(existing.url).content.decode()
    assert not Organization.objects.filter(name__in=["X", "Y"]).exists()
    # The account's holder is told instead, with the ways in; their account is untouched.
    notice, link = mailoutbox
    assert notice.to == ["owner@alpha.example"] and link.to == ["new@example.com"]
    assert "tried to sign up" in notice.body
    assert reverse("login") in notice.body and reverse("password_reset") in notice.body
    assert reverse("signup-confirm", kwargs={"token": "x"})[:-2] not in notice.body
    tenant_a.owner.refresh_from_db()
    assert tenant_a.owner.check_password(PASSWORD)


def test_signup_form_errors_are_shown(client, db, mailoutbox):
    response = client.post(
        reverse("signup"),
        {"accept_terms": "on", "organization_name": "", "email": "not-an-address"},
    )
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
    assert mailoutbox == []


def test_signup_link_refuses_a_weak_password_and_a_forged_token(client, db, mailoutbox):
    client.post(
        reverse("signup"),
        {"accept_terms": "on", "organization_name": "Z", "email": "z@example.com"},
    )
    path = _link(mailoutbox[0])
    response = client.post(path, {"password": "123"})
    assert response.status_code == 400
    assert "too short" in response.content.decode()
    assert not User.objects.filter(email="z@example.com").exists()
    forged = path.rstrip("/")[:-3] + "abc/"
    assert client.get(forged).status_code == 404
    assert client.post(forged, {"password": "a long enough pass phrase"}).status_code == 404
    assert not User.objects.filter(email="z@example.com").exists()


def test_signup_mails_an_address_at_most_once_per_interval(client, tenant_a, mailoutbox):
    # Anyone may sign up with any address: without a limit a stranger could flood a mailbox.
    for _ in range(3):
        client.post(
            reverse("signup"),
            {"accept_terms": "on", "organization_name": "X", "email": "owner@alpha.example"},
        )
        client.post(
            reverse("signup"),
            {"accept_terms": "on", "organization_name": "Y", "email": "new@example.com"},
        )
    assert sorted(m.to[0] for m in mailoutbox) == ["new@example.com", "owner@alpha.example"]


def test_signup_attempts_are_limited_per_client_address(client, db, settings, mailoutbox):
    # Issue 12: 20 sign-ups in a row from one address all went through.
    settings.LEADPILOT_SIGNUP_ATTEMPTS_PER_HOUR = 3
    signup = reverse("signup")

    def attempt(n: int, **meta: str):
        data = {
            "accept_terms": "on",
            "organization_name": f"Org {n}",
            "email": f"person{n}@example.com",
        }
        return client.post(signup, data, **meta)

    assert [attempt(n, REMOTE_ADDR="203.0.113.5").status_code for n in range(3)] == [302] * 3
    refused = attempt(3, REMOTE_ADDR="203.0.113.5")
    assert refused.status_code == 429
    assert "Too many sign-up attempts" in refused.content.decode()
    assert len(mailoutbox) == 3
    assert attempt(4, REMOTE_ADDR="198.51.100.7").status_code == 302

    # Behind the TLS proxy every request comes from the proxy: the client is in X-Forwarded-For.
    settings.LEADPILOT_TRUSTED_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(5, 8):
        assert attempt(n, **proxy, HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 302
    assert attempt(8, **proxy, HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 429
    assert attempt(9, **proxy, HTTP_X_FORWARDED_FOR="192.0.2.2").status_code == 302


def test_dashboard_of_foreign_organisation_is_404(tenant_a, tenant_b):
    client = tenant_a.client_for(tenant_a.member)
    assert (
        client.get(reverse("org-home", kwargs={"org_slug": tenant_a.org.slug})).status_code == 200
    )
    assert (
        client.get(reverse("org-home", kwargs={"org_slug": tenant_b.org.slug})).status_code == 404
    )
    assert client.get(reverse("org-home", kwargs={"org_slug": "no-such-org"})).status_code == 404


def test_both_new_account_pages_check_the_password_against_the_address(
    client, tenant_a, mailoutbox
):
    # One password check (forms.NewAccountForm) for the sign-up link and the invitation link:
    # both refuse a password that repeats the account's own address.
    from organizations.services import invitation_create

    client.post(
        reverse("signup"),
        {"accept_terms": "on", "organization_name": "S", "email": "solveig.haugland@example.com"},
    )
    _inv, token = invitation_create(
        organization=tenant_a.org, invited_by=tenant_a.owner, email="ragnhild.bakke@example.com"
    )
    pages = {
        _link(mailoutbox[0]): "solveig.haugland",
        reverse("invitation-accept", kwargs={"token": token}): "ragnhild.bakke",
    }
    for path, password in pages.items():
        response = client.post(path, {"full_name": "", "password": password})
        assert response.status_code == 400, path
        assert "too similar to the email" in response.content.decode(), path
    assert not User.objects.filter(email__endswith="@example.com").exists()
