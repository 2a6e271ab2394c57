"""Registry import benchmark: a Companies House BasicCompanyData-shaped file, end to end.

    .venv/bin/python bench/import.py            # 1,000,000 rows (file cached under var/bench/)
    .venv/bin/python bench/import.py --quick    # 20,000 rows, CI smoke test
    .venv/bin/python bench/import.py --rows 200000 --skip-orm   # while iterating
    .venv/bin/python bench/import.py --full-schema   # every app migrated: the import also
                                                     # rebuilds blocklists' lp_company_name_key

Measures, each in its own process (timed from the call, Django start-up excluded; peak RSS of
that process, Django included):
  - import:    enrichment.importers.registry_import(source="ch_basic") into an empty directory
  - reimport:  the same unchanged file again (nothing may change)
  - orm:       a plain Django ORM baseline: csv.DictReader + Company(...) + bulk_create(5000)
  - copy:      the floor: raw COPY of the same file into an unindexed table of text columns
               (three times; the median is the floor, min and max are printed too)
It uses its own database (<DATABASE_URL name>_bench, created and dropped here) on the
PostgreSQL server of DATABASE_URL. The generated file is cached under var/bench/ and made again
when the sandbox's generator changed since (bench/_common.py). The last line is key=value figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _urls() -> tuple[str, str, str]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadpilot")
    parsed = urlparse(base)
    name = (parsed.path.lstrip("/") or "leadpilot") + "_bench"
    admin = urlunparse(parsed._replace(path="/postgres"))
    bench = urlunparse(parsed._replace(path="/" + name))
    return admin, bench, name


def _conninfo(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _recreate_db(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_conninfo(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_db(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_conninfo(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(args: list[str], env: dict) -> tuple[float, float, str]:
    """Run a child process; return (wall seconds, peak RSS MB, stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, text=True
    )
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{err[-3000:]}")
    return wall, usage.ru_maxrss / 1024, out


def _checkpoint(url: str) -> None:
    """Each measurement starts from a checkpoint: otherwise the WAL of the one before (the
    floor's COPYs write 0.5 GB each) sets off a checkpoint in the middle of the next one.
    Needs a superuser or pg_checkpoint; without, the figures are just noisier."""
    import psycopg

    with (
        psycopg.connect(_conninfo(url), autocommit=True) as conn,
        contextlib.suppress(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("CHECKPOINT")


def _copy_floor(url: str, path: Path) -> float:
    import psycopg

    _checkpoint(url)
    with path.open("rb") as f:
        header = f.readline().decode()
    columns = len(header.split(","))
    cols = ", ".join(f"c{i}" for i in range(columns))
    with psycopg.connect(_conninfo(url)) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_copy_floor")
        cur.execute(
            f"CREATE TABLE bench_copy_floor ({', '.join(f'c{i} text' for i in range(columns))})"
        )
        conn.commit()
        t0 = time.perf_counter()
        with (
            path.open("rb") as f,
            cur.copy(
                f"COPY bench_copy_floor ({cols}) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy,
        ):
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        elapsed = time.perf_counter() - t0
        cur.execute("DROP TABLE bench_copy_floor")
        conn.commit()
    return elapsed


def _child_setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadpilot.settings.base")
    django.setup()


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_import(path: str) -> None:
    """Child mode: one registry_import, timed from the call (Django start-up excluded)."""
    _child_setup()
    from enrichment.importers import registry_import

    t0 = time.perf_counter()
    result = registry_import(source="ch_basic", path=Path(path), progress=False)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb(), **result.summary()}))


def child_orm(path: str) -> None:
    """Child mode: the naive importer (parse, build model objects, bulk_create in batches)."""
    import csv
    import datetime as dt

    _child_setup()
    from django.db import reset_queries

    from enrichment.models import Company

    def date(value: str):
        value = value.strip()
        if not value:
            return None
        d, m, y = value.split("/")
        return dt.date(int(y), int(m), int(d))

    t0 = time.perf_counter()
    batch: list[Company] = []
    n = 0
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        names = [h.strip() for h in next(reader)]
        idx = {h: i for i, h in enumerate(names)}
        for row in reader:
            sic = row[idx["SICCode.SicText_1"]].split(" - ", 1)[0].strip()
            batch.append(
                Company(
                    country="GB",
                    registry_id=row[idx["CompanyNumber"]].strip(),
                    name=row[idx["CompanyName"]].strip()[:300],
                    legal_form_raw=row[idx["CompanyCategory"]].strip()[:120],
                    status="active",
                    incorporated_on=date(row[idx["IncorporationDate"]]),
                    nace_primary=int(sic[:4]) if sic.isdigit() and len(sic) == 5 else None,
                    nace_raw=sic,
                    postcode=row[idx["RegAddress.PostCode"]].strip()[:16],
                    municipality=row[idx["RegAddress.PostTown"]].strip()[:100],
                    address=row[idx["RegAddress.AddressLine1"]].strip()[:300],
                )
            )
            if len(batch) >= 5000:
                reset_queries()  # DEBUG keeps every query otherwise; not the baseline's cost
                Company.objects.bulk_create(batch)
                n += len(batch)
                batch.clear()
    Company.objects.bulk_create(batch)
    n += len(batch)
    print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb(), "rows": n}))


def _orm_baseline(url: str, path: Path, env: dict) -> tuple[float, float]:
    import psycopg

    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute("TRUNCATE enrichment_company CASCADE")
    _checkpoint(url)
    args = [sys.executable, __file__, "--child-orm", str(path)]
    orm = json.loads(_run(args, env)[2].splitlines()[-1])
    return orm["seconds"], orm["peak_mb"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="20,000 rows (CI smoke test)")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--skip-orm", action="store_true", help="leave out the ORM baseline (while iterating)"
    )
    parser.add_argument(
        "--full-schema",
        action="store_true",
        help="migrate every app (the matching indexes on enrichment_company included)",
    )
    parser.add_argument("--child-import", help=argparse.SUPPRESS)
    parser.add_argument("--child-orm", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        child_import(args.child_import)
        return
    if args.child_orm:
        child_orm(args.child_orm)
        return
    rows = args.rows or (20_000 if args.quick else 1_000_000)

    from bench._common import file_is_current, file_mark_current, source_digest
    from sandbox.world import ch_basic_write

    cache = ROOT / "var" / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"BasicCompanyData-bench-{rows}.csv"
    digest = source_digest(ROOT / "sandbox" / "world", "seed=7")
    if not file_is_current(path, digest):
        if path.exists():
            print(f"the generator changed since {path} was made: generating it again")
        t0 = time.perf_counter()
        tmp = path.with_suffix(".tmp")
        ch_basic_write(seed=7, companies=rows, path=tmp)
        tmp.rename(path)
        file_mark_current(path, digest)
        print(f"generated {rows} rows in {time.perf_counter() - t0:.1f}s -> {path}")
    size_mb = path.stat().st_size / 1e6

    admin, url, name = _urls()
    _recreate_db(admin, name)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "leadpilot.settings.base"}
    env.pop("LEADPILOT_IMPORT_TIMING", None)
    py = sys.executable
    manage = str(ROOT / "manage.py")
    try:
        apps = [] if args.full_schema else ["enrichment"]
        _run([py, manage, "migrate", *apps, "--noinput", "-v0"], env)
        # The floor swings with the server's checkpoints and write-back (3.5-9 s per million
        # rows were seen here): the median of three COPYs, with the other two printed.
        floors = sorted(_copy_floor(url, path) for _ in range(3))
        copy_s = floors[1]
        print(
            f"copy floor: {copy_s:.2f}s ({rows / copy_s:,.0f} rows/s) for {size_mb:.0f} MB "
            f"(median of 3; {floors[0]:.2f}-{floors[2]:.2f}s)"
        )

        cmd = [py, __file__, "--child-import", str(path)]
        _checkpoint(url)
        first = json.loads(_run(cmd, env)[2].strip().splitlines()[-1])
        assert first["rows_new"] == rows, first
        import_s, import_mb = first["seconds"], first["peak_mb"]
        print(
            f"import: {import_s:.2f}s ({rows / import_s:,.0f} rows/s), peak {import_mb:.0f} MB, "
            f"fast_path={first['fast_path']}"
        )
        _checkpoint(url)
        again = json.loads(_run(cmd, env)[2].strip().splitlines()[-1])
        assert again["rows_unchanged"] == rows and again["rows_changed"] == 0, again
        re_s, re_mb = again["seconds"], again["peak_mb"]
        print(f"unchanged re-import: {re_s:.2f}s ({rows / re_s:,.0f} rows/s), peak {re_mb:.0f} MB")

        orm_s = orm_mb = None
        if not args.skip_orm:
            orm_s, orm_mb = _orm_baseline(url, path, env)
            print(
                f"ORM bulk_create baseline: {orm_s:.2f}s ({rows / orm_s:,.0f} rows/s), "
                f"peak {orm_mb:.0f} MB"
            )
    finally:
        if not args.keep_db:
            _drop_db(admin, name)

    figures = {
        "rows": rows,
        "schema": "full" if args.full_schema else "enrichment",
        "file_mb": round(size_mb),
        "import_s": round(import_s, 2),
        "import_rows_per_s": round(rows / import_s),
        "import_peak_mb": round(import_mb),
        "reimport_s": round(re_s, 2),
        "reimport_rows_per_s": round(rows / re_s),
        "reimport_speedup_x": round(import_s / re_s, 2),
        "copy_floor_s": round(copy_s, 2),
        "copy_floor_rows_per_s": round(rows / copy_s),
        "copy_floor_min_s": round(floors[0], 2),
        "copy_floor_max_s": round(floors[2], 2),
        "import_vs_copy_x": round(import_s / copy_s, 2),
    }
    if orm_s is not None and orm_mb is not None:
        figures |= {
            "orm_s": round(orm_s, 2),
            "orm_rows_per_s": round(rows / orm_s),
            "orm_peak_mb": round(orm_mb),
            "import_vs_orm_speedup_x": round(orm_s / import_s, 2),
        }
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
