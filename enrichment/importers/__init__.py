"""Registry bulk-file importers.

Contract: ``registry_import(source=..., path=...)`` reads one bulk file (plain, .gz or .zip) as a
stream, records an ``ImportRun``, writes every unreadable row as an ``ImportRejection`` (line
number + reason) and goes on, and merges the rest into the directory in one transaction: either
the whole file lands or nothing does (the ImportRun then says ``failed`` and why). Re-importing an
unchanged file changes nothing. Companies come before their roles: import ``ch_basic`` before
``ch_psc`` and ``no_enheter`` before ``no_roller`` (``IMPORT_ORDER``, defined in
``enrichment.sources``).

Escape hatch: ``fast=False`` forces the portable Python path on PostgreSQL (tests compare both).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from enrichment.importers import parsers
from enrichment.importers.merge import (
    CompanyMerge,
    CompanyPolicy,
    Counts,
    MergeContext,
    RoleMerge,
    Sql,
    Stager,
)
from enrichment.importers.merge import rejections_write as _rejections_write
from enrichment.importers.records import CompanyRecord, Rejected, RoleRecord, Skipped, Trailer
from enrichment.importers.streams import file_sha256, registry_open
from enrichment.models import ImportRun, ImportStatus, Source
from enrichment.sources import IMPORT_ORDER as IMPORT_ORDER  # re-exported: callers import it here

log = logging.getLogger(__name__)

PSC_NOT_PEOPLE = ("persons-with-significant-control-statement", "exemptions")
_ADDRESS = ("address", "postcode", "postcode_prefix", "municipality", "region")
_NACE = ("nace_primary", "nace_raw")


@dataclass(frozen=True)
class SourceSpec:
    code: str
    name: str
    country: str
    licence: str
    attribution: str
    parser: Callable[..., Iterator]
    policy: CompanyPolicy | None = None  # company sources
    role_snapshot: bool | None = None  # role sources: does a missing role mean it ended?
    # company sources: does every file list every live company (a missing one is dissolved)?
    full_snapshot: bool = False


SOURCES: dict[str, SourceSpec] = {
    s.code: s
    for s in (
        SourceSpec(
            "ch_basic",
            "Companies House BasicCompanyData",
            "GB",
            "Open Government Licence v3.0",
            "Contains public sector information licensed under the Open Government Licence v3.0 "
            "(Companies House).",
            parsers.parse_ch_basic,
            full_snapshot=True,
            policy=CompanyPolicy(
                owned=(
                    "name",
                    "legal_form",
                    "legal_form_raw",
                    "status",
                    "incorporated_on",
                    *_NACE,
                    "size_band",
                    *_ADDRESS,
                ),
                primary=True,
                creates=True,
                owns_industries=True,
            ),
        ),
        SourceSpec(
            "ch_psc",
            "Companies House PSC snapshot",
            "GB",
            "Open Government Licence v3.0",
            "Contains public sector information licensed under the Open Government Licence v3.0 "
            "(Companies House).",
            parsers.parse_ch_psc,
            role_snapshot=False,
        ),
        SourceSpec(
            "no_enheter",
            "Brønnøysundregistrene Enhetsregisteret",
            "NO",
            "Norsk lisens for offentlige data (NLOD) 2.0",
            "Inneholder data under Norsk lisens for offentlige data (NLOD) tilgjengeliggjort av "
            "Brønnøysundregistrene.",
            parsers.parse_no_enheter,
            policy=CompanyPolicy(
                owned=(
                    "name",
                    "legal_form",
                    "legal_form_raw",
                    "status",
                    "incorporated_on",
                    *_NACE,
                    "employees_min",
                    "employees_max",
                    "employees_source",
                    "size_band",
                    *_ADDRESS,
                    "website_domain",
                    "email_domain",
                    "phone",
                ),
                primary=True,
                creates=True,
                owns_industries=True,
            ),
        ),
        SourceSpec(
            "no_roller",
            "Brønnøysundregistrene roller (totalbestand)",
            "NO",
            "Norsk lisens for offentlige data (NLOD) 2.0",
            "Inneholder data under Norsk lisens for offentlige data (NLOD) tilgjengeliggjort av "
            "Brønnøysundregistrene.",
            parsers.parse_no_roller,
            role_snapshot=True,
        ),
        SourceSpec(
            "se_bolagsverket",
            "Bolagsverket bulkfil",
            "SE",
            "EU High-Value Dataset terms",
            "Källa: Bolagsverket.",
            parsers.parse_se_bolagsverket,
            policy=CompanyPolicy(
                owned=(
                    "name",
                    "legal_form",
                    "legal_form_raw",
                    "status",
                    "incorporated_on",
                    "address",
                    "postcode",
                    "postcode_prefix",
                    "municipality",
                ),
                primary=True,
                creates=True,
                owns_industries=False,
            ),
        ),
        SourceSpec(
            "se_scb",
            "SCB Företagsregistret (JE)",
            "SE",
            "SCB terms",
            "Källa: Statistiska centralbyrån (SCB).",
            parsers.parse_se_scb,
            policy=CompanyPolicy(
                owned=(*_NACE, "marketing_blocked"),
                primary=False,
                creates=True,
                owns_industries=True,
            ),
        ),
        SourceSpec(
            "gleif",
            "GLEIF LEI Golden Copy",
            "",
            "CC0 1.0",
            "Source: Global Legal Entity Identifier Foundation (GLEIF).",
            parsers.parse_gleif,
            policy=CompanyPolicy(
                owned=("lei",), primary=False, creates=False, owns_industries=False
            ),
        ),
    )
}


@dataclass
class ImportResult:
    run_id: int
    source: str
    counts: Counts
    path: str = ""
    fast_path: bool = False
    encoding: str = ""
    notes: list[str] = field(default_factory=list)
    cleanup: list[str] = field(default_factory=list)  # staging tables committed on the side

    def summary(self) -> dict:
        c = self.counts
        return {
            "source": self.source,
            "file": self.path,
            "import_run": self.run_id,
            "rows_read": c.rows_read,
            "rows_new": c.rows_new,
            "rows_changed": c.rows_changed,
            "rows_unchanged": c.rows_unchanged,
            "rows_rejected": c.rows_rejected,
            "rows_skipped": c.rows_skipped,
            "change_events": c.events,
            "companies_dissolved": c.dissolved,
            "encoding": self.encoding,
            "fast_path": self.fast_path,
            "notes": c.notes,
        }


def source_get_or_create(*, code: str) -> Source:
    spec = SOURCES[code]
    src, _ = Source.objects.update_or_create(
        code=code,
        defaults={
            "name": spec.name,
            "country": spec.country,
            "licence": spec.licence,
            "attribution": spec.attribution,
        },
    )
    return src


def registry_import(
    *,
    source: str,
    path: Path,
    progress: bool | None = None,
    fast: bool = True,
    allow_mass_dissolve: bool = False,
) -> ImportResult:
    """Import one bulk file. Idempotent for an unchanged file (counts it all as unchanged).

    ``allow_mass_dissolve``: a full snapshot may dissolve more than a fifth of the source's
    companies (refused otherwise, as a file cut off at a line boundary looks like that).

    Side effects: an ImportRun (committed first, so a failure stays visible), ImportRejections,
    directory rows, ChangeEvents (only when the source has an earlier successful run)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
    spec = SOURCES[source]
    path = Path(path)
    src = source_get_or_create(code=source)
    emit = ImportRun.objects.filter(source=src, status=ImportStatus.SUCCEEDED).exists()
    # The file's sha256 is computed on a second thread while the import reads the file
    # (hashlib releases the GIL): on a 2-core machine it costs no wall time, instead of a
    # whole extra read before the import (0.3-0.6 s per 500 MB).
    hashing = ThreadPoolExecutor(max_workers=1)
    file_hash = hashing.submit(file_sha256, path)
    hashing.shutdown(wait=False)
    run = ImportRun.objects.create(source=src, file_name=path.name, file_hash="")
    result = ImportResult(run_id=run.pk, source=source, counts=Counts(), path=str(path))
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                _pg_session_tune()
            if spec.policy is not None and connection.vendor == "postgresql":
                # Imports into the directory run one at a time (readers are not blocked).
                with connection.cursor() as cur:
                    cur.execute("LOCK TABLE enrichment_company IN SHARE ROW EXCLUSIVE MODE")
            done = False
            both = {
                "path": path,
                "run": run,
                "source": src,
                "emit": emit,
                "progress": progress,
                "result": result,
                "allow_mass_dissolve": allow_mass_dissolve,
            }
            if fast and spec.code == "ch_basic" and connection.vendor == "postgresql":
                from enrichment.importers.fastpath import ch_basic_fast

                done = ch_basic_fast(**both)
            if not done:
                _import_python(spec=spec, **both)
    except Exception as exc:
        if result.cleanup:
            from enrichment.importers.copyparts import drop_tables

            drop_tables(result.cleanup)
        run.status = ImportStatus.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:5000]
        run.finished_at = timezone.now()
        run.file_hash = file_hash.result()
        run.save(update_fields=["status", "error", "finished_at", "file_hash"])
        raise
    c = result.counts
    run.rows_read, run.rows_new, run.rows_changed = c.rows_read, c.rows_new, c.rows_changed
    run.rows_unchanged, run.rows_rejected = c.rows_unchanged, c.rows_rejected
    run.status, run.finished_at = ImportStatus.SUCCEEDED, timezone.now()
    run.file_hash = file_hash.result()
    run.save(
        update_fields=[
            "file_hash",
            "rows_read",
            "rows_new",
            "rows_changed",
            "rows_unchanged",
            "rows_rejected",
            "status",
            "finished_at",
        ]
    )
    return result


def _pg_session_tune() -> None:
    """Memory for the set-based merge: staging tables live in temp buffers (default 8 MB, so a
    big file would go through the disk), and hash joins and sorts over a whole file need more
    than the default 4 MB work_mem. temp_buffers can only change before the session's first
    temporary table; later imports in the same session keep the value already set."""
    with connection.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")
        try:
            with transaction.atomic():
                cur.execute("SET temp_buffers = '1GB'")
        except DatabaseError:
            pass


def _import_python(
    *,
    spec: SourceSpec,
    path: Path,
    run: ImportRun,
    source: Source,
    emit: bool,
    progress: bool | None,
    result: ImportResult,
    allow_mass_dissolve: bool = False,
) -> None:
    sql = Sql(connection)
    now = timezone.now()
    with connection.cursor() as cur, registry_open(path, progress=progress) as opened:
        result.encoding = opened.encoding
        ctx = MergeContext(
            sql=sql, cursor=cur, run_id=run.pk, source_id=source.pk, now=now, emit_events=emit
        )
        if spec.policy is not None:
            merger: CompanyMerge | RoleMerge = CompanyMerge(ctx, policy=spec.policy)
            merger.open_stage()
        else:
            merger = RoleMerge(ctx, snapshot=bool(spec.role_snapshot))
        read = rejected = skipped = 0
        rejections: list[tuple[int, str, str]] = []
        rejected_ids: list[str] = []  # rejected rows that name their company
        unnamed = 0  # rejected rows that do not (a malformed line)
        trailer: Trailer | None = None
        psc_people = 0
        for item in spec.parser(opened):
            if isinstance(item, CompanyRecord | RoleRecord):
                read += 1
                merger.add(item)
                continue
            if isinstance(item, Skipped):
                read += 1
                skipped += 1
                if spec.code == "ch_psc" and item.why not in PSC_NOT_PEOPLE:
                    psc_people += 1
            elif isinstance(item, Rejected):
                read += 1
                rejected += 1
                rejections.append((item.line, item.reason, item.raw))
                if item.registry_id:
                    rejected_ids.append(item.registry_id)
                else:
                    unnamed += 1
                if len(rejections) >= 1000:
                    _rejections_write(cur, run_id=run.pk, rows=rejections)
                    rejections.clear()
            elif isinstance(item, Trailer):
                trailer = item
        _rejections_write(cur, run_id=run.pk, rows=rejections)
        counts = merger.merge_stage() if isinstance(merger, CompanyMerge) else merger.merge()
        if isinstance(merger, CompanyMerge) and spec.full_snapshot and emit:
            if unnamed:
                counts.notes.append(
                    f"{unnamed} rejected rows name no company: companies missing from this "
                    "snapshot were not marked dissolved"
                )
            else:
                seen = Stager(sql, cur, "lp_stage_seen", ("registry_id",))
                for registry_id in rejected_ids:
                    seen.add((registry_id,))
                seen.flush()
                merger.retire_missing(
                    seen="SELECT registry_id FROM lp_stage_company "
                    "UNION ALL SELECT registry_id FROM lp_stage_seen",
                    country=spec.country,
                    allow_mass=allow_mass_dissolve,
                )
        counts.rows_read = read
        counts.rows_rejected += rejected
        counts.rows_skipped += skipped
        if trailer is not None and spec.code == "ch_psc":
            expected = trailer.counts.get("persons_of_significant_control_count")
            people = merger.stage.count + psc_people
            if expected is not None and expected != people:
                counts.notes.append(f"totals trailer says {expected} PSCs, file has {people}")
        counts.notes = result.counts.notes + counts.notes
        result.counts = counts
