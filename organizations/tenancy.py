"""Tenancy primitives. Contract: tenant data is never read or written without its organisation.

- Every tenant-owned model inherits `TenantModel`: an indexed `organization` FK.
- Its default manager (`objects`) refuses to run a query that is not scoped to one organisation.
  Scoped means: started from `Model.objects.for_org(org)`, filtered on `organization` /
  `organization_id` with a concrete value, or reached through a related manager of a parent object
  (which was itself loaded through a scoped query).
- The escape hatch is `Model.all_orgs`: a plain manager for the admin, migrations and the nightly
  fan-out. Its callers are few and greppable (`git grep all_orgs`).
"""

from __future__ import annotations

from typing import Any, Self

from django.db import models


class UnscopedTenantQuery(Exception):
    """A tenant model was queried without an organisation."""


_SCOPING_KEYS = frozenset(
    {"organization", "organization_id", "organization__pk", "organization__id"}
)


class TenantQuerySet(models.QuerySet):
    _org_scoped: bool = False

    def for_org(self, organization: Any) -> Self:
        if organization is None:
            raise UnscopedTenantQuery(f"{self.model.__name__}.for_org() was given no organization")
        clone = self.filter(organization=organization)
        clone._org_scoped = True
        return clone

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]  # private in the stubs
        clone._org_scoped = self._org_scoped
        return clone

    def _filter_or_exclude(self, negate: bool, args: Any, kwargs: Any) -> Self:
        clone = super()._filter_or_exclude(negate, args, kwargs)  # type: ignore[misc]
        if not negate and any(
            key in _SCOPING_KEYS and value is not None for key, value in kwargs.items()
        ):
            clone._org_scoped = True
        return clone

    # Combining querysets: the result is scoped only when it cannot contain rows from outside
    # the scoped parts. `scoped | unscoped` (OR, XOR, UNION) could, so it stays unscoped;
    # `scoped & anything`, INTERSECTION with a scoped part and `scoped.difference(...)` cannot.

    def _combined(self, combined: Any, scoped: bool) -> Any:
        if not isinstance(combined, TenantQuerySet):
            # Django fell back to the base (unscoped) manager, e.g. for a sliced operand.
            if not scoped:
                raise UnscopedTenantQuery(
                    f"Combining an unscoped {self.model.__name__} query: scope every part."
                )
            return combined
        combined = combined._chain()  # type: ignore[attr-defined]
        combined._org_scoped = scoped
        return combined

    def __or__(self, other: Any) -> Self:
        scoped = self._org_scoped and getattr(other, "_org_scoped", False)
        return self._combined(super().__or__(other), scoped)

    def __xor__(self, other: Any) -> Self:
        scoped = self._org_scoped and getattr(other, "_org_scoped", False)
        return self._combined(super().__xor__(other), scoped)

    def __and__(self, other: Any) -> Self:
        scoped = self._org_scoped or getattr(other, "_org_scoped", False)
        return self._combined(super().__and__(other), scoped)

    def _combinator_query(self, combinator: str, *other_qs: Any, **kwargs: Any) -> Self:
        others = [getattr(qs, "_org_scoped", False) for qs in other_qs]
        if combinator == "union":
            scoped = self._org_scoped and all(others)
        elif combinator == "intersection":
            scoped = self._org_scoped or any(others)
        else:  # difference: a subset of self
            scoped = self._org_scoped
        clone = super()._combinator_query(combinator, *other_qs, **kwargs)  # type: ignore[misc]
        clone._org_scoped = scoped
        return clone

    def _require_scope(self) -> None:
        if not self._org_scoped:
            raise UnscopedTenantQuery(
                f"Unscoped query on tenant model {self.model.__name__}: "
                f"use {self.model.__name__}.objects.for_org(org)."
            )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def iterator(self, *args: Any, **kwargs: Any) -> Any:
        self._require_scope()
        return super().iterator(*args, **kwargs)

    def count(self) -> int:
        self._require_scope()
        return super().count()

    def exists(self) -> bool:
        self._require_scope()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._require_scope()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._require_scope()
        return super().delete()

    def in_bulk(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        self._require_scope()
        return super().in_bulk(*args, **kwargs)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Default manager of tenant models: fail closed."""

    def get_queryset(self) -> TenantQuerySet:
        qs = super().get_queryset()
        # A related manager (parent.children) carries the parent's filter: scoped by construction.
        if getattr(self, "core_filters", None):
            qs._org_scoped = True
        return qs


class TenantModel(models.Model):
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+", db_index=True
    )

    objects = TenantManager()
    all_orgs = models.Manager()  # noqa: DJ012 - escape hatch: admin, migrations, nightly fan-out

    class Meta:
        abstract = True
        base_manager_name = "all_orgs"
