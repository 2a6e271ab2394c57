"""Registry of the objects that URL kwargs point at, for the tenancy matrix.

tests/test_tenancy_matrix.py walks every URL pattern under /o/<org_slug>/ and
/api/v1/orgs/<org_slug>/. For each kwarg besides `org_slug` (e.g. `segment_id`) it needs an object
of organisation B to point at; this registry says how to create one. A pattern whose kwarg is not
registered fails the matrix, so a new endpoint cannot go untested.

Register in a module named `tenancy_objects.py` anywhere under tests/ (it is imported
automatically), e.g. tests/segments/tenancy_objects.py:

    from tests.tenancy_registry import register_object

    @register_object("segment_id")
    def make_segment(tenant):
        # Create it through your services, the way a user would. Put the organisation's slug in a
        # visible field (name, e-mail ...): the list-leak check looks for it on A's pages.
        return segment_create(organization=tenant.org, created_by=tenant.admin,
                              name=f"{tenant.org.slug} segment", ...)

`tenant` is tests.conftest.Tenant (org, owner, admin, member). The factory returns the object; the
URL value is `obj.pk` unless `url_value=` says otherwise (API keys use their prefix).

A kwarg that is not an object id (a year, a month, a date) is declared with its value instead:

    register_param("year", 2026)

Such a kwarg gets the same value in every request, and a route whose only kwargs are params is
checked like a list page.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TESTS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ObjectFactory:
    kwarg: str
    make: Callable[[Any], Any]
    url_value: Callable[[Any], Any]
    module: str
    is_param: bool = False


REGISTRY: dict[str, ObjectFactory] = {}


def _pk(obj: Any) -> Any:
    return obj.pk


def register_object(
    kwarg: str, *, url_value: Callable[[Any], Any] = _pk
) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Declare how to create, in a given tenant, the object a URL kwarg named `kwarg` points at."""

    def decorator(make: Callable[[Any], Any]) -> Callable[[Any], Any]:
        existing = REGISTRY.get(kwarg)
        if existing is not None and existing.module != make.__module__:
            raise ValueError(
                f"URL kwarg {kwarg!r} is registered twice: in {existing.module} and "
                f"{make.__module__}. One kwarg name means one kind of object; rename one."
            )
        REGISTRY[kwarg] = ObjectFactory(
            kwarg=kwarg, make=make, url_value=url_value, module=make.__module__
        )
        return make

    return decorator


def register_param(kwarg: str, value: Any) -> None:
    """Declare a URL kwarg that is not an object id, with the value to put in URLs."""
    import inspect

    caller = inspect.stack()[1].frame.f_globals.get("__name__", "?")
    existing = REGISTRY.get(kwarg)
    if existing is not None and existing.module != caller:
        raise ValueError(
            f"URL kwarg {kwarg!r} is registered twice: in {existing.module} and {caller}."
        )
    REGISTRY[kwarg] = ObjectFactory(
        kwarg=kwarg,
        make=lambda tenant: value,
        url_value=lambda v: v,
        module=caller,
        is_param=True,
    )


def load_registrations() -> dict[str, ObjectFactory]:
    """Import every tests/**/tenancy_objects.py so their @register_object calls run."""
    for path in sorted(TESTS_DIR.rglob("tenancy_objects.py")):
        module = ".".join(("tests", *path.relative_to(TESTS_DIR).with_suffix("").parts))
        importlib.import_module(module)
    return REGISTRY
