from django.urls import reverse

from organizations.models import Membership, Organization, Role


def test_healthz_reports_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_signup_creates_organisation_with_owner_and_logs_in(client, db):
    response = client.post(
        reverse("signup"),
        {
            "organization_name": "Nordlys Logistikk",
            "full_name": "Kari Nordmann",
            "email": "Kari@Nordlys.example",
            "password": "a long enough pass phrase",
        },
    )
    org = Organization.objects.get(name="Nordlys Logistikk")
    assert response.status_code == 302
    assert response.url == reverse("org-home", kwargs={"org_slug": org.slug})
    membership = Membership.objects.for_org(org).get()
    assert membership.user.email == "kari@nordlys.example"
    assert membership.role == Role.OWNER
    page = client.get(response.url)
    assert page.status_code == 200
    assert "Nordlys Logistikk" in page.content.decode()


def test_signup_rejects_existing_email_and_weak_password(client, tenant_a):
    response = client.post(
        reverse("signup"),
        {"organization_name": "X", "email": "owner@alpha.example", "password": "123"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "already exists" in body
    assert Organization.objects.filter(name="X").count() == 0


def test_dashboard_of_foreign_organisation_is_404(tenant_a, tenant_b):
    client = tenant_a.client_for(tenant_a.member)
    assert (
        client.get(reverse("org-home", kwargs={"org_slug": tenant_a.org.slug})).status_code == 200
    )
    assert (
        client.get(reverse("org-home", kwargs={"org_slug": tenant_b.org.slug})).status_code == 404
    )
    assert client.get(reverse("org-home", kwargs={"org_slug": "no-such-org"})).status_code == 404
