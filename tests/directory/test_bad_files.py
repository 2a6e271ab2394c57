"""Malformed registry files: a clear error from import_registry, and nothing changed."""

from __future__ import annotations

import gzip
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from enrichment.models import Company, ImportRejection, ImportRun, ImportStatus
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


@pytest.mark.parametrize("options", [(), ("--portable",)], ids=["fast", "portable"])
def test_a_snapshot_cut_off_at_a_line_boundary_does_not_dissolve_half_the_directory(
    world, tmp_path, options, monkeypatch
):
    from enrichment.importers import merge

    good = world_file(world, "ch_basic")
    _import("ch_basic", good)
    live = Company.objects.filter(country="GB").exclude(status="dissolved").count()
    monkeypatch.setattr(merge, "DISSOLVE_GUARD_MIN", min(100, live // 4))
    lines = read_member(good).splitlines(keepends=True)
    cut = tmp_path / "BasicCompanyData.csv"
    cut.write_bytes(b"".join(lines[: len(lines) // 2]))  # a download that stopped half-way
    with pytest.raises(CommandError, match=r"would mark [0-9,]+ of the [0-9,]+ companies"):
        _import("ch_basic", cut, *options)
    assert Company.objects.filter(country="GB").exclude(status="dissolved").count() == live
    assert ImportRun.objects.latest("id").status == ImportStatus.FAILED
    # A register that really lost them: the operator says so.
    _import("ch_basic", cut, *options, "--allow-mass-dissolve")
    dissolved = Company.objects.filter(country="GB", status="dissolved").count()
    assert live // 3 < dissolved < live


def _cut_gzip(data: bytes) -> bytes:
    packed = gzip.compress(data)
    return packed[: len(packed) // 2]


@pytest.mark.parametrize(
    ("source", "name", "damage", "fragment"),
    [
        ("ch_basic", "BasicCompanyData.csv.gz", _cut_gzip, "not a complete .gz or .zip file"),
        ("no_enheter", "enheter.zip", lambda data: b"PK\x03\x04" + b"\x00" * 64, "not a complete"),
        ("no_roller", "roller.json", lambda data: data[: len(data) // 2], "not valid JSON"),
        ("no_roller", "roller.json", lambda data: b"", "not valid JSON"),
    ],
    ids=["cut-gzip", "broken-zip", "cut-json", "empty-json"],
)
def test_damaged_files_give_one_clear_line_and_change_nothing(
    world, tmp_path, source, name, damage, fragment
):
    path = tmp_path / name
    path.write_bytes(damage(read_member(world_file(world, source))))
    with pytest.raises(CommandError, match=fragment):
        _import(source, path)
    assert ImportRun.objects.get().status == ImportStatus.FAILED
    assert not Company.objects.exists()


def test_a_nul_byte_in_a_rejected_line_is_kept_as_a_rejection(world, tmp_path):
    # ch_psc is JSON lines: a line of binary junk is one rejection, not a failed import.
    good = read_member(world_file(world, "ch_psc"))
    path = tmp_path / "psc.txt"
    path.write_bytes(b"\x00\xff{junk\n" + good)
    _import("ch_psc", path)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.SUCCEEDED and run.rows_rejected == 1
    assert "\ufffd" in ImportRejection.objects.get(import_run=run).raw


@pytest.mark.parametrize(
    ("source", "options"),
    [("ch_basic", ()), ("ch_basic", ("--portable",)), ("se_bolagsverket", ())],
)
def test_a_nul_byte_in_a_row_reads_as_a_replacement_character(world, tmp_path, source, options):
    lines = read_member(world_file(world, source)).split(b"\n")
    lines[2] = lines[2].replace(b"A", b"A\x00")  # inside the third row's name and address
    path = tmp_path / "file.csv"
    path.write_bytes(b"\n".join(lines))
    _import(source, path, *options)
    assert ImportRun.objects.get().status == ImportStatus.SUCCEEDED
    assert Company.objects.filter(name__contains="A\ufffd").count() == 1
