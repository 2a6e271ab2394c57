"""GLEIF LEI Golden Copy CSV: the LEI crosswalk to national registry ids."""

from __future__ import annotations

import re
from collections.abc import Iterator

from enrichment.importers.parsers.common import (
    Item,
    csv_table,
)
from enrichment.importers.records import (
    CompanyRecord,
    Rejected,
    Skipped,
    sha256_text,
)
from enrichment.importers.streams import Opened

GLEIF_REQUIRED = (
    "LEI",
    "Entity.LegalName",
    "Entity.RegistrationAuthority.RegistrationAuthorityEntityID",
    "Entity.LegalJurisdiction",
)
GLEIF_COUNTRIES = {"GB", "NO", "SE"}


def parse_gleif(opened: Opened) -> Iterator[Item]:
    """Golden Copy CSV (dotted header): a crosswalk LEI -> national registry id."""
    idx, rows = csv_table(opened, required=GLEIF_REQUIRED, source="gleif")
    for row in rows:
        if isinstance(row, Rejected):
            yield row
            continue
        line, fields = row
        lei = fields[idx["LEI"]].strip()
        if not re.fullmatch(r"[A-Z0-9]{20}", lei):
            yield Rejected(line, f"LEI: not 20 characters A-Z0-9: {lei[:24]!r}")
            continue
        country = fields[idx["Entity.LegalJurisdiction"]].strip().upper()[:2]
        if country not in GLEIF_COUNTRIES:
            yield Skipped(line, f"jurisdiction {country or '?'} not in the directory")
            continue
        rid = fields[idx["Entity.RegistrationAuthority.RegistrationAuthorityEntityID"]].strip()
        if country == "SE":
            rid = rid.replace("-", "")
        if country == "NO":
            rid = rid.replace(" ", "")
        if not rid:
            yield Skipped(line, "no registration-authority entity id")
            continue
        yield CompanyRecord(
            line=line,
            country=country,
            registry_id=rid[:32],
            name=fields[idx["Entity.LegalName"]].strip()[:300],
            lei=lei,
            payload_hash=sha256_text(lei + rid),
        )
