"""Malformed registry files: a clear error from import_registry, and nothing changed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from enrichment.models import Company, ImportRun, ImportStatus
from tests.directory.conftest import read_member, world_file

pytestmark = pytest.mark.django_db


def _import(source: str, path, *options: str) -> None:
    call_command(
        "import_registry",
        "--source",
        source,
        str(path),
        "--no-progress",
        *options,
        stdout=StringIO(),
    )


@pytest.mark.parametrize("options", [(), ("--portable",)], ids=["fast", "portable"])
def test_a_header_only_snapshot_does_not_dissolve_the_directory(world, tmp_path, options):
    good = world_file(world, "ch_basic")
    _import("ch_basic", good)
    live = Company.objects.filter(country="GB").exclude(status="dissolved").count()
    header_only = tmp_path / "BasicCompanyData.csv"
    header_only.write_bytes(read_member(good).split(b"\n", 1)[0] + b"\n")
    with pytest.raises(CommandError, match="header but no rows"):
        _import("ch_basic", header_only, *options)
    assert Company.objects.filter(country="GB").exclude(status="dissolved").count() == live > 0
    assert ImportRun.objects.latest("id").status == ImportStatus.FAILED
