"""factory_boy factories. Tenant data in tests is created through services where a user would
cause it; factories cover the plain rows underneath (users, directory entries)."""

from __future__ import annotations

import factory

from enrichment.models import Company, CompanyStatus, Person, Role, RoleKind
from organizations.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    country = "GB"
    registry_id = factory.Sequence(lambda n: f"{n:08d}")
    name = factory.Sequence(lambda n: f"Company {n} Ltd")
    status = CompanyStatus.ACTIVE


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    person_key = factory.Sequence(lambda n: f"test:{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    full_name = factory.LazyAttribute(lambda p: f"{p.first_name} {p.last_name}")


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    company = factory.SubFactory(CompanyFactory)
    person = factory.SubFactory(PersonFactory)
    kind = RoleKind.CEO
