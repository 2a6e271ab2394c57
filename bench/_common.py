"""Shared set-up for benchmark scripts: a database of their own, migrated, and Django ready.

Benchmarks use BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/leadpilot_bench),
never the development or test database.

A bench that keeps what it generated between runs (a directory of 500,000 companies takes minutes)
ties it to what built it: the database carries a fingerprint of the migrations on disk and of the
generator's sources (a comment on the database). When either changed, or the fingerprint is missing
(older code, an interrupted build), the database is dropped and built again, and a line says why: a
figure never comes from data that other code made, and a schema change cannot hide behind an old
database (a raw INSERT that the new schema refuses fails on every machine, not only on new ones).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/leadpilot_bench"
_MARK = "leadpilot-bench "


def source_digest(*parts: Path | str) -> str:
    """SHA-256 over files (a directory: its *.py and data files, recursively) and plain texts
    (parameters of the generator, such as a seed). Paths are hashed by their name under the
    repository too, so moving code counts as a change."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            h.update(b"text\0" + part.encode() + b"\0")
            continue
        files = sorted(
            p
            for p in ([part] if part.is_file() else part.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        )
        if not files:
            raise FileNotFoundError(f"nothing to fingerprint at {part}")
        for path in files:
            h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def file_is_current(path: Path, digest: str) -> bool:
    """Whether a cached generated file exists and was made by the generator `digest` names
    (its stamp sits beside it as `<name>.fingerprint`)."""
    stamp = path.with_name(path.name + ".fingerprint")
    return path.exists() and stamp.is_file() and stamp.read_text().strip() == digest


def file_mark_current(path: Path, digest: str) -> None:
    path.with_name(path.name + ".fingerprint").write_text(digest + "\n")


def _migrations_digest() -> str:
    """The migrations on disk, by name (applied migrations are never edited, only added)."""
    from django.db.migrations.loader import MigrationLoader

    names = sorted(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return hashlib.sha256(json.dumps(names).encode()).hexdigest()


def _conninfo(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


@dataclass
class BenchDatabase:
    """The bench's database. `reusable`: it holds data built by the current migrations and
    generator (always False for a bench that did not name its generator)."""

    url: str
    name: str
    fingerprint: str
    reusable: bool

    def _comment(self, text: str | None) -> None:
        import psycopg
        from psycopg import sql

        admin_url = self.url.rsplit("/", 1)[0] + "/postgres"
        value = sql.SQL("NULL") if text is None else sql.Literal(text)
        with psycopg.connect(_conninfo(admin_url), autocommit=True) as conn:
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(self.name), value)
            )

    def mark_building(self) -> None:
        """Call before generating: an interrupted build leaves no fingerprint behind."""
        self.reusable = False
        self._comment(None)

    def mark_built(self) -> None:
        """Call after the generated data is complete (committed)."""
        self._comment(_MARK + self.fingerprint)
        self.reusable = True


def _stored_fingerprint(admin_url: str, dbname: str) -> tuple[bool, str | None]:
    import psycopg

    with psycopg.connect(_conninfo(admin_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [dbname],
        ).fetchone()
    if row is None:
        return False, None
    comment = row[0] or ""
    return True, comment.removeprefix(_MARK) if comment.startswith(_MARK) else None


def _why_stale(
    stored: str | None, expected: str, *, keep_across_migrations: bool = False
) -> str | None:
    if stored == expected:
        return None
    if stored is None:
        return "it has no build fingerprint (made by older code, or its build was interrupted)"
    old, new = json.loads(stored), json.loads(expected)
    changed = [k for k in ("migrations", "generator") if old.get(k) != new.get(k)]
    if keep_across_migrations and changed == ["migrations"]:
        print("bench: keeping the generated data across new migrations (migrate applies them)")
        return None
    return "its " + " and ".join(changed or ["fingerprint"]) + " changed since it was built"


def setup_django(
    *, migrate: bool = True, built_by: str | None = None, keep_across_migrations: bool = False
) -> BenchDatabase:
    """Point Django at the bench database (creating it if needed), migrate, and return it.

    `built_by`: the digest of the bench's generator (see `source_digest`). With it, a database
    built by other migrations or another generator is dropped and created anew first, with a
    printed line saying why. `keep_across_migrations`: data built by the same generator under
    older migrations is kept and migrated instead (for a directory that takes an hour to build;
    the caller marks it built again afterwards).
    """
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadpilot.settings.base")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    dbname = url.rsplit("/", 1)[1]
    fingerprint = json.dumps(
        {"migrations": _migrations_digest(), "generator": built_by or ""}, sort_keys=True
    )
    reusable = False
    if url.startswith("postgres"):
        import psycopg

        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        exists, stored = _stored_fingerprint(admin_url, dbname)
        why = (
            _why_stale(stored, fingerprint, keep_across_migrations=keep_across_migrations)
            if exists and built_by
            else None
        )
        with psycopg.connect(_conninfo(admin_url), autocommit=True) as conn:
            if why:
                print(f"bench: dropping and rebuilding database {dbname}: {why}", flush=True)
                conn.execute(f'DROP DATABASE "{dbname}" WITH (FORCE)')
                exists = False
            if not exists:
                conn.execute(f'CREATE DATABASE "{dbname}"')
        reusable = bool(built_by) and exists and why is None
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    return BenchDatabase(url=url, name=dbname, fingerprint=fingerprint, reusable=reusable)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def figures_line(**figures: object) -> str:
    """The closing `key=value` line every bench prints last."""
    return " ".join(f"{k}={v}" for k, v in figures.items())
