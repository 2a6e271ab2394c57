"""Streaming parsers: registry file -> normalised records, one row at a time.

Columns are mapped by header name (stripped), never by position; a missing required column fails
the whole file with a clear error, a bad row yields ``Rejected`` with its line number and the
import goes on. Personal identity numbers never leave these modules.
"""

from enrichment.importers.parsers.brreg import parse_no_enheter, parse_no_roller
from enrichment.importers.parsers.common import FileFormatError, Item
from enrichment.importers.parsers.companies_house import (
    CH_REQUIRED,
    ch_basic_record,
    parse_ch_basic,
    parse_ch_psc,
)
from enrichment.importers.parsers.gleif import parse_gleif
from enrichment.importers.parsers.sweden import parse_se_bolagsverket, parse_se_scb

__all__ = [
    "CH_REQUIRED",
    "FileFormatError",
    "Item",
    "ch_basic_record",
    "parse_ch_basic",
    "parse_ch_psc",
    "parse_gleif",
    "parse_no_enheter",
    "parse_no_roller",
    "parse_se_bolagsverket",
    "parse_se_scb",
]
