"""Deterministic synthetic world: registry bulk files plus the internet that goes with them.

``world_generate(seed=S, companies=N, out=DIR)`` writes, in one streaming pass per country:

    DIR/registry/   bulk files byte-shaped like the real ones (notes/formats.md §11)
    DIR/internet/domains.jsonl   contract A (helpers' CONTRACTS.md), one domain per line
    DIR/internet/people.jsonl    ground truth: decision-makers' addresses and whether they exist
    DIR/world.json  what was written: files by importer source, in import order, and counts

The same arguments give byte-identical files. ``revision`` applies the deterministic
month-to-month changes (see ``firms.firm_revise``) so a re-import shows ChangeEvents.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from enrichment.sources import IMPORT_ORDER
from sandbox.world.firms import AS_OF_DEFAULT, firms, lei_for
from sandbox.world.internet import InternetBuilder
from sandbox.world.registry import (
    BolagsverketWriter,
    BrregWriter,
    CHBasicWriter,
    GleifWriter,
    PSCWriter,
    RollerWriter,
    SCBWriter,
    Sink,
)

__all__ = ["IMPORT_ORDER", "WorldSummary", "ch_basic_write", "world_generate"]

SHARES = {"GB": 0.45, "NO": 0.40, "SE": 0.15}


@dataclass
class WorldSummary:
    seed: int
    revision: int
    as_of: str
    companies: dict[str, int] = field(default_factory=dict)
    files: list[dict[str, str]] = field(default_factory=list)
    domains: int = 0
    people: int = 0

    def to_json(self) -> dict:
        return {
            "seed": self.seed,
            "revision": self.revision,
            "as_of": self.as_of,
            "companies": self.companies,
            "files": self.files,
            "domains": self.domains,
            "people": self.people,
            "import_order": list(IMPORT_ORDER),
        }


def _split(total: int) -> dict[str, int]:
    gb = round(total * SHARES["GB"])
    no = round(total * SHARES["NO"])
    return {"GB": gb, "NO": no, "SE": max(total - gb - no, 0)}


def world_generate(
    *,
    seed: int,
    companies: int,
    out: Path,
    revision: int = 0,
    as_of: dt.date = AS_OF_DEFAULT,
    compress: bool = True,
) -> WorldSummary:
    """Write the whole world under ``out`` (created; existing files are overwritten)."""
    out = Path(out)
    reg, net = out / "registry", out / "internet"
    reg.mkdir(parents=True, exist_ok=True)
    net.mkdir(parents=True, exist_ok=True)
    counts = _split(companies)
    summary = WorldSummary(seed=seed, revision=revision, as_of=as_of.isoformat())
    internet = InternetBuilder(seed=seed)
    ymd = as_of.isoformat()

    def sink(source: str, name: str, member: str, container: str, encoding: str = "utf-8") -> Sink:
        if not compress:
            name, container = member, "plain"
        path = reg / name
        summary.files.append({"source": source, "path": f"registry/{name}"})
        return Sink(path, member=member, encoding=encoding, container=container)

    domains_f = (net / "domains.jsonl").open("w", encoding="utf-8")
    gleif_sink = sink(
        "gleif",
        f"{as_of:%Y%m%d}-0000-gleif-goldencopy-lei2-golden-copy.csv.zip",
        f"{as_of:%Y%m%d}-0000-gleif-goldencopy-lei2-golden-copy.csv",
        "zip",
    )
    gleif = GleifWriter(gleif_sink)

    def emit(entries: list[dict]) -> None:
        for entry in entries:
            domains_f.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
            summary.domains += 1

    def maybe_lei(firm) -> None:
        rng = random.Random(f"{seed}/{firm.country}/{firm.index}/lei")
        if not firm.sole_trader_pin and rng.random() < 0.08:
            gleif.write(firm, lei_for(firm.country, firm.index))

    # United Kingdom
    ch = sink(
        "ch_basic",
        f"BasicCompanyDataAsOneFile-{ymd}.zip",
        f"BasicCompanyDataAsOneFile-{ymd}.csv",
        "zip",
    )
    psc_sink = sink(
        "ch_psc",
        f"persons-with-significant-control-snapshot-{ymd}.zip",
        f"persons-with-significant-control-snapshot-{ymd}.txt",
        "zip",
    )
    ch_w, psc_w = CHBasicWriter(ch, as_of), PSCWriter(psc_sink, as_of, reg / ".psc-statements")
    n = 0
    for firm in firms(seed=seed, country="GB", count=counts["GB"], as_of=as_of, revision=revision):
        emit(internet.assign(firm))
        ch_w.write(firm)
        psc_w.write(firm)
        maybe_lei(firm)
        n += 1
    psc_w.finish()
    ch.close()
    psc_sink.close()
    summary.companies["GB"] = n

    # Norway
    csv_s = sink("no_enheter", "enheter_alle.csv.gz", "enheter_alle.csv", "gz")
    json_s = sink("no_enheter_json", "enheter_alle.json.gz", "enheter_alle.json", "gz")
    rol_s = sink("no_roller", "roller_totalbestand.json.gz", "roller_totalbestand.json", "gz")
    brreg, roller = BrregWriter(csv_s, json_s), RollerWriter(rol_s)
    n = 0
    for firm in firms(seed=seed, country="NO", count=counts["NO"], as_of=as_of, revision=revision):
        emit(internet.assign(firm))
        brreg.write(firm)
        roller.write(firm)
        maybe_lei(firm)
        n += 1
    brreg.finish()
    roller.finish()
    for s in (csv_s, json_s, rol_s):
        s.close()
    summary.companies["NO"] = n

    # Sweden
    bv_s = sink("se_bolagsverket", "bolagsverket_bulkfil.zip", "bolagsverket_bulkfil.txt", "zip")
    scb_s = sink(
        "se_scb",
        f"scb_bulkfil_JE_{as_of:%Y%m%d}T030000_1.zip",
        f"scb_bulkfil_JE_{as_of:%Y%m%d}T030000_1.txt",
        "zip",
        encoding="latin-1",
    )
    bv, scb = BolagsverketWriter(bv_s), SCBWriter(scb_s)
    n = 0
    for firm in firms(seed=seed, country="SE", count=counts["SE"], as_of=as_of, revision=revision):
        emit(internet.assign(firm))
        bv.write(firm)
        if n == 2:
            bv.write_malformed()
        scb.write(firm)
        maybe_lei(firm)
        n += 1
    bv_s.close()
    scb_s.close()
    summary.companies["SE"] = n

    for i in range(max(1, companies // 200)):
        gleif.write_foreign(i)
    gleif_sink.close()
    domains_f.close()

    with (net / "people.jsonl").open("w", encoding="utf-8") as f:
        for person in internet.people:
            f.write(json.dumps(person, ensure_ascii=False, separators=(",", ":")) + "\n")
    summary.people = len(internet.people)
    (out / "world.json").write_text(json.dumps(summary.to_json(), indent=2) + "\n")
    return summary


def ch_basic_write(
    *,
    seed: int,
    companies: int,
    path: Path,
    container: str = "plain",
    as_of: dt.date = AS_OF_DEFAULT,
) -> Path:
    """Only the Companies House BasicCompanyData file (benchmarks: a million rows, no internet)."""
    member = Path(path).name.removesuffix(".zip")
    if not member.endswith(".csv"):
        member += ".csv"
    s = Sink(Path(path), member=member, container=container)
    w = CHBasicWriter(s, as_of)
    for firm in firms(seed=seed, country="GB", count=companies, as_of=as_of):
        w.write(firm)
    s.close()
    return Path(path)
