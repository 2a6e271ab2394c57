"""The set-based merge of staged registry rows into the directory, on PostgreSQL and SQLite.

A company import goes through these phases, one module each, in this order (pipeline.py,
``CompanyMerge``, runs them):

    staging.py      records -> temporary tables (PostgreSQL COPY in batches, SQLite
                    executemany); rejected rows -> ImportRejection; the rows that are new or
                    differ from the directory -> the rows to merge ("todo")
    duplicates.py   two rows for one company: the last line wins, the others are rejected
    changes.py      existing companies whose owned fields differ: what changed, the update
    events.py       ChangeEvents (name, status, address, industry, new company, dissolved),
                    only when the source has a previous successful import (the first import
                    is the baseline, not news)
    companies.py    new companies inserted (``ON CONFLICT DO NOTHING``; a large set takes its
                    ids from one reserved block)
    industries.py   industry rows: a changed company's replaced, a new company's inserted
    bulkload.py     a large first load sets indexes and constraints aside and rebuilds them
    dissolve.py     a full snapshot dissolves the companies it no longer lists

Role sources go through roles.py (``RoleMerge``: people, then roles) for companies already in the
directory. sql.py holds the table names and the few PostgreSQL/SQLite differences; context.py
what a merge is given (``MergeContext``, ``CompanyPolicy``, ``PreparedRows``) and returns
(``Counts``). Each long statement is a named constant in its phase's module, with its purpose.

The thresholds below are read from this package when a merge runs, so that tests can lower them.
"""

from enrichment.importers.merge.context import CompanyPolicy, Counts, MergeContext, PreparedRows
from enrichment.importers.merge.pipeline import CompanyMerge
from enrichment.importers.merge.roles import RoleMerge
from enrichment.importers.merge.sql import Sql, Timed, timing_print
from enrichment.importers.merge.staging import Stager, rejections_write

# A full snapshot may not dissolve more than this share of the source's live companies (when
# that is at least DISSOLVE_GUARD_MIN of them) unless the caller allows it (retire_missing).
DISSOLVE_GUARD_SHARE = 0.2
DISSOLVE_GUARD_MIN = 100
# A bulk load (bulkload.py) from this many new companies, when they are at least BULK_SHARE of
# the companies the directory holds; smaller imports insert through the indexes.
BULK_MIN_ROWS = 50_000
BULK_SHARE = 0.5
ID_BLOCK_MIN = 10_000  # new rows from which ids are reserved as one block

__all__ = [
    "BULK_MIN_ROWS",
    "BULK_SHARE",
    "DISSOLVE_GUARD_MIN",
    "DISSOLVE_GUARD_SHARE",
    "ID_BLOCK_MIN",
    "CompanyMerge",
    "CompanyPolicy",
    "Counts",
    "MergeContext",
    "PreparedRows",
    "RoleMerge",
    "Sql",
    "Stager",
    "Timed",
    "rejections_write",
    "timing_print",
]
