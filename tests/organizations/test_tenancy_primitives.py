import pytest

from blocklists.models import DeliveryRecord
from organizations.models import Membership
from organizations.tenancy import UnscopedTenantQuery
from tests.factories import PersonFactory, RoleFactory


def test_unscoped_query_on_tenant_model_raises(tenant_a, tenant_b):
    with pytest.raises(UnscopedTenantQuery):
        list(Membership.objects.all())
    with pytest.raises(UnscopedTenantQuery):
        Membership.objects.filter(role="owner").count()
    with pytest.raises(UnscopedTenantQuery):
        Membership.objects.exists()
    with pytest.raises(UnscopedTenantQuery):
        Membership.objects.update(role="member")
    with pytest.raises(UnscopedTenantQuery):
        Membership.objects.all().delete()
    with pytest.raises(UnscopedTenantQuery):
        Membership.objects.get(role="owner")


def test_for_org_sees_only_its_own_rows(tenant_a, tenant_b):
    a_users = {m.user.email for m in Membership.objects.for_org(tenant_a.org)}
    assert a_users == {"owner@alpha.example", "admin@alpha.example", "member@alpha.example"}
    assert Membership.objects.for_org(tenant_b.org).count() == 3


def test_for_org_refuses_none():
    with pytest.raises(UnscopedTenantQuery):
        Membership.objects.for_org(None)


def test_excluding_an_organisation_is_not_scoping(tenant_a, tenant_b):
    with pytest.raises(UnscopedTenantQuery):
        list(Membership.objects.exclude(organization=tenant_a.org))


def test_delivery_record_is_tenant_scoped(tenant_a, tenant_b):
    role = RoleFactory()
    DeliveryRecord.objects.create(
        organization=tenant_a.org, company=role.company, person=role.person, lead_id=None
    )
    assert DeliveryRecord.objects.for_org(tenant_a.org).count() == 1
    assert DeliveryRecord.objects.for_org(tenant_b.org).count() == 0
    with pytest.raises(UnscopedTenantQuery):
        DeliveryRecord.objects.filter(person=role.person).exists()
    PersonFactory()  # unrelated directory rows are global and need no scope


def test_combining_with_an_unscoped_query_is_unscoped(tenant_a, tenant_b):
    scoped = Membership.objects.for_org(tenant_a.org)
    unscoped = Membership.objects.filter(role="owner")
    for leaky in (scoped | unscoped, unscoped | scoped, scoped ^ unscoped, scoped.union(unscoped)):
        with pytest.raises(UnscopedTenantQuery):
            list(leaky)
    # Narrowing combinations stay scoped and still see only A's rows.
    for narrow in (
        scoped & unscoped,
        unscoped & scoped,
        scoped.intersection(unscoped),
        scoped.difference(unscoped),
    ):
        rows = list(narrow)
        assert rows and {m.organization_id for m in rows} == {tenant_a.org.pk}
    both = Membership.objects.for_org(tenant_a.org) | Membership.objects.for_org(tenant_b.org)
    assert both.count() == 6


def test_combining_a_sliced_scoped_query_with_an_unscoped_one_raises(tenant_a):
    sliced = Membership.objects.for_org(tenant_a.org)[:1]
    with pytest.raises((UnscopedTenantQuery, TypeError)):
        list(sliced | Membership.objects.filter(role="owner"))
