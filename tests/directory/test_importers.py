"""Importing a generated world: counts, idempotence, change events, both load paths."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count

from enrichment.importers import IMPORT_ORDER, registry_import
from enrichment.models import (
    ChangeEvent,
    Company,
    CompanyIndustry,
    ImportRejection,
    ImportRun,
    ImportStatus,
    Person,
    Role,
)
from tests.directory.conftest import world_file

pytestmark = pytest.mark.django_db


def _load(world: Path, *, fast: bool = True) -> dict[str, dict]:
    out = {}
    for source in IMPORT_ORDER:
        out[source] = registry_import(
            source=source, path=world_file(world, source), progress=False, fast=fast
        ).summary()
    return out


def _snapshot() -> list[tuple]:
    fields = [
        f.name
        for f in Company._meta.fields
        if f.name not in ("id", "first_seen_at", "updated_at", "source", "payload_hash")
    ]
    return sorted(Company.objects.values_list(*fields))


def test_world_import_counts_and_directory_contents(world):
    result = _load(world)
    ch = result["ch_basic"]
    assert ch["fast_path"] is True
    assert ch["rows_read"] == ch["rows_new"] > 600
    assert ch["rows_rejected"] == 0
    assert Company.objects.filter(country="GB").count() == ch["rows_new"]
    no = result["no_enheter"]
    assert no["rows_new"] == Company.objects.filter(country="NO").count()
    # Unknown employee counts stay NULL (never 0); only a few are known.
    no_companies = Company.objects.filter(country="NO")
    unknown = no_companies.filter(employees_min__isnull=True).count()
    assert 0.85 <= unknown / no_companies.count() < 1
    assert not no_companies.filter(employees_min=0).exists()
    # Dormant UK companies (99999 / DORMANT accounts) are dormant, and have no NACE class.
    dormant = Company.objects.filter(country="GB", status="dormant")
    assert dormant.exists()
    assert not dormant.filter(nace_raw="99999", nace_primary__isnull=False).exists()
    assert CompanyIndustry.objects.filter(company__country="GB", is_primary=True).count() == (
        Company.objects.filter(country="GB", nace_primary__isnull=False).count()
    )
    se = result["se_bolagsverket"]
    assert se["rows_rejected"] == 1 and se["rows_skipped"] >= 1
    assert (
        ImportRejection.objects.filter(
            import_run_id=se["import_run"], reason__startswith="malformed line"
        ).count()
        == 1
    )
    assert Company.objects.filter(country="SE", nace_primary__isnull=False).exists()
    assert Company.objects.filter(country="SE", marketing_blocked=True).exists()
    # Decision-makers: CEOs and chairs in Norway, owners in the UK.
    assert Role.objects.filter(company__country="NO", kind="ceo", is_current=True).exists()
    assert Role.objects.filter(company__country="NO", kind="chair").exists()
    assert Role.objects.filter(company__country="NO", is_current=False).exists()
    assert Role.objects.filter(company__country="GB", kind="owner", is_current=False).exists()
    assert not Person.objects.filter(birth_year__isnull=True, country="NO").exists()
    assert Company.objects.exclude(lei="").count() == result["gleif"]["rows_changed"]
    # The first import is the baseline: no events.
    assert not ChangeEvent.objects.exists()
    assert ImportRun.objects.filter(status=ImportStatus.SUCCEEDED).count() == len(IMPORT_ORDER)
    # Each run records the sha256 of the file it read.
    for source, summary in result.items():
        data = world_file(world, source).read_bytes()
        assert ImportRun.objects.get(pk=summary["import_run"]).file_hash == (
            hashlib.sha256(data).hexdigest()
        ), source


def test_reimporting_unchanged_files_changes_nothing(world):
    _load(world)
    before = _snapshot()
    roles_before = sorted(Role.objects.values_list("company_id", "person_id", "kind", "is_current"))
    again = _load(world)
    for source, summary in again.items():
        assert summary["rows_new"] == 0, source
        assert summary["rows_changed"] == 0, source
        assert summary["change_events"] == 0, source
    assert again["ch_basic"]["rows_unchanged"] == again["ch_basic"]["rows_read"]
    assert _snapshot() == before
    assert (
        sorted(Role.objects.values_list("company_id", "person_id", "kind", "is_current"))
        == roles_before
    )
    assert not ChangeEvent.objects.exists()


def test_next_months_files_record_change_events(world, world_next):
    _load(world)
    result = _load(world_next)
    kinds = dict(ChangeEvent.objects.values_list("kind").annotate(n=Count("id")))
    for kind in (
        "new_company",
        "status",
        "address",
        "industry",
        "name",
        "role_added",
        "role_ended",
    ):
        assert kinds.get(kind, 0) > 0, kind
    assert result["ch_basic"]["rows_new"] == kinds["new_company"] - sum(
        result[s]["rows_new"] for s in ("no_enheter", "se_bolagsverket")
    )
    ended = ChangeEvent.objects.filter(kind="role_ended", company__country="NO").first()
    assert ended.person is not None
    assert (
        Role.objects.get(
            company=ended.company, person=ended.person, kind=ended.old["kind"]
        ).is_current
        is False
    )
    renamed = ChangeEvent.objects.filter(kind="name").first()
    assert renamed.company.name == renamed.new["name"] != renamed.old["name"]
    # New CEOs arrive with the new month.
    assert ChangeEvent.objects.filter(kind="role_added", new__kind="ceo").exists()


def test_fast_path_and_portable_path_give_the_same_directory(world, world_next, monkeypatch):
    from enrichment.importers import fastpath

    monkeypatch.setattr(fastpath, "CHUNK_BYTES", 16 << 10)  # many COPY chunks over both parts
    registry_import(
        source="ch_basic", path=world_file(world, "ch_basic"), progress=False, fast=True
    )
    fast = _snapshot()
    fast_ind = sorted(
        CompanyIndustry.objects.values_list(
            "company__registry_id", "nace_class", "raw_code", "is_primary"
        )
    )
    Company.objects.all().delete()
    ImportRun.objects.all().delete()
    portable = registry_import(
        source="ch_basic", path=world_file(world, "ch_basic"), progress=False, fast=False
    )
    assert portable.fast_path is False
    assert _snapshot() == fast
    assert (
        sorted(
            CompanyIndustry.objects.values_list(
                "company__registry_id", "nace_class", "raw_code", "is_primary"
            )
        )
        == fast_ind
    )
    # The fast path recognises the portable path's rows as unchanged (same payload hash),
    # and both see the same changes in next month's file.
    again = registry_import(source="ch_basic", path=world_file(world, "ch_basic"), progress=False)
    assert again.counts.rows_unchanged == again.counts.rows_read
    nxt = registry_import(
        source="ch_basic", path=world_file(world_next, "ch_basic"), progress=False
    )
    assert nxt.counts.rows_changed > 0 and nxt.counts.rows_new > 0


def test_roles_for_unknown_companies_are_skipped_not_invented(world):
    summary = registry_import(
        source="no_roller", path=world_file(world, "no_roller"), progress=False
    ).summary()
    assert summary["rows_new"] == 0
    assert summary["rows_skipped"] == summary["rows_read"]
    assert not Role.objects.exists() and not Person.objects.exists()


def test_import_registry_command_prints_one_closing_json_line(world):
    out = StringIO()
    call_command(
        "import_registry", "--source", "ch_basic", str(world_file(world, "ch_basic")), stdout=out
    )
    last = json.loads(out.getvalue().strip().splitlines()[-1])
    for key in ("rows_read", "rows_new", "rows_changed", "rows_unchanged", "rows_rejected"):
        assert key in last
    assert last["rows_new"] == last["rows_read"]


def test_load_world_imports_everything_in_order(world):
    out = StringIO()
    call_command("load_world", str(world), "--no-progress", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().strip().splitlines()]
    assert [line["source"] for line in lines] == list(IMPORT_ORDER)
    assert Role.objects.filter(company__country="GB").exists()


def test_the_same_import_works_on_sqlite(world, tmp_path):
    """The embedded default (no DATABASE_URL): migrate and load the world on SQLite."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(DJANGO_SETTINGS_MODULE="leadpilot.settings.base", LEADPILOT_VAR_DIR=str(tmp_path))
    manage = Path(__file__).resolve().parents[2] / "manage.py"

    def run(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, str(manage), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    run("migrate", "--noinput", "-v0")
    first = [json.loads(x) for x in run("load_world", str(world), "--no-progress").splitlines()]
    second = [json.loads(x) for x in run("load_world", str(world), "--no-progress").splitlines()]
    assert (tmp_path / "leadpilot.sqlite3").exists()
    assert first[0]["source"] == "ch_basic" and first[0]["rows_new"] > 600
    assert first[0]["fast_path"] is False
    assert all(s["rows_new"] == 0 and s["rows_changed"] == 0 for s in second)
    assert [s["rows_unchanged"] for s in second] == [
        f["rows_new"] + f["rows_changed"] + f["rows_unchanged"] for f in first
    ]


def _catalogue() -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('enrichment_company', 'enrichment_companyindustry') ORDER BY 1, 2"
        )
        indexes = cur.fetchall()
        cur.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid IN ('enrichment_company'::regclass, "
            "'enrichment_companyindustry'::regclass) ORDER BY 1, 2"
        )
        return indexes + cur.fetchall()


def test_bulk_load_restores_every_index_and_constraint(world, monkeypatch):
    from enrichment.importers import merge

    before = _catalogue()
    registry_import(source="ch_basic", path=world_file(world, "ch_basic"), progress=False)
    normal = _snapshot()
    Company.objects.all().delete()
    ImportRun.objects.all().delete()
    monkeypatch.setattr(merge, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(merge, "ID_BLOCK_MIN", 1)
    result = registry_import(source="ch_basic", path=world_file(world, "ch_basic"), progress=False)
    assert result.counts.rows_new > 600
    assert _catalogue() == before
    assert _snapshot() == normal
    # Ids came from one reserved block; the sequence is past all of them.
    top = Company.objects.order_by("-id").first().id
    later = Company.objects.create(country="GB", registry_id="NEW00001", name="Later Ltd")
    assert later.id > top
    # So did the industry rows' ids.
    top_industry = CompanyIndustry.objects.order_by("-id").first().id
    industry = CompanyIndustry.objects.create(
        company=later, nace_class=6201, code_system="uk_sic2007", raw_code="62012"
    )
    assert industry.id > top_industry
    later.delete()
    # The restored unique constraint still guards the directory.
    again = registry_import(source="ch_basic", path=world_file(world, "ch_basic"), progress=False)
    assert again.counts.rows_unchanged == again.counts.rows_read
