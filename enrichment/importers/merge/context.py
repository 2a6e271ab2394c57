"""What one import's merge is given and what it gives back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from enrichment.importers.merge.sql import Sql


@dataclass(frozen=True)
class MergeContext:
    """The connection a merge writes through and what it records with each row."""

    sql: Sql
    cursor: Any
    run_id: int  # the ImportRun: rejections and ChangeEvents name it
    source_id: int
    now: dt.datetime
    emit_events: bool  # the source has an earlier successful import: changes are news


@dataclass(frozen=True)
class CompanyPolicy:
    owned: tuple[str, ...]  # company fields this source sets when it updates a company
    primary: bool  # stores payload_hash (and source) on the company
    creates: bool  # may create companies that are not in the directory yet
    owns_industries: bool


@dataclass(frozen=True)
class PreparedRows:
    """Staged rows a caller prepared itself (the PostgreSQL fast path), instead of the Python
    path's Stager tables."""

    todo: str  # the table of staged rows to merge (CompanyMerge.TODO_COLUMNS)
    # A SELECT of (company_id, nace_class, code_system, raw_code, is_primary, slot) over staged
    # rows ``t`` with {company_id}, {todo}, {join} and {where} to fill in.
    industries_select: str
    # SELECT (country, registry_id, line) of every row read, unchanged or not.
    staged_keys: str
    # The highest line number: a large set of new companies may take ids base + line from one
    # reserved block.
    ids_from_line: int | None = None
    # (start, where): start(select) creates a table of the industry rows of a bulk load of new
    # companies on another connection while this one inserts the companies (returns the table's
    # name); where: what else those rows must match.
    stage_industries: tuple[Callable[[str], Future[str]], str] | None = None


@dataclass
class Counts:
    rows_read: int = 0
    rows_new: int = 0
    rows_changed: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    events: int = 0
    dissolved: int = 0  # companies of a full snapshot's source missing from this one
    notes: list[str] = field(default_factory=list)
