"""The world generator writes files shaped like the real registry files, deterministically."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter

import pytest

from sandbox.world import world_generate
from sandbox.world.firms import local_part
from sandbox.world.registry import BRREG_HEADER, CH_HEADER, SCB_COLUMNS
from tests.directory.conftest import domains, read_member, world_file

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _digest(folder) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_world_and_another_seed_does_not(tmp_path):
    world_generate(seed=5, companies=300, out=tmp_path / "a")
    world_generate(seed=5, companies=300, out=tmp_path / "b")
    world_generate(seed=6, companies=300, out=tmp_path / "c")
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert a == b
    assert a.keys() == c.keys()
    assert (
        a["registry/BasicCompanyDataAsOneFile-2026-11-01.zip"]
        != (c["registry/BasicCompanyDataAsOneFile-2026-11-01.zip"])
    )


def test_companies_house_file_has_the_real_header_quoting_dates_and_sic_values(world):
    raw = read_member(world_file(world, "ch_basic")).decode("utf-8")
    header, _, body = raw.partition("\r\n")
    assert header == CH_HEADER
    names = header.split(",")
    assert len(names) == 55
    assert sum(1 for n in names if n.startswith(" ")) == 14
    lines = body.rstrip("\r\n").split("\r\n")
    assert all(line.startswith('"') and line.endswith('"') for line in lines)
    rows = list(csv.reader(io.StringIO(body)))
    assert all(len(r) == 55 for r in rows)
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4}", r[14]) for r in rows)
    sic = [r[26] for r in rows]
    assert any(re.fullmatch(r"\d{5} - .+", s) for s in sic)
    assert any(re.fullmatch(r"\d{4} - .+", s) for s in sic), "legacy 4-digit SIC 2003"
    assert "None Supplied" in sic
    assert "99999 - Dormant Company" in sic
    assert any(r[1].startswith("SC") for r in rows)


def test_psc_snapshot_has_every_kind_statements_at_the_tail_and_a_true_trailer(world):
    lines = read_member(world_file(world, "ch_psc")).decode().splitlines()
    records = [json.loads(line) for line in lines]
    kinds = [r["data"]["kind"] for r in records]
    assert set(kinds) >= {
        "individual-person-with-significant-control",
        "corporate-entity-person-with-significant-control",
        "legal-person-person-with-significant-control",
        "super-secure-person-with-significant-control",
        "persons-with-significant-control-statement",
        "exemptions",
        "totals#persons-of-significant-control-snapshot",
    }
    first_statement = kinds.index("persons-with-significant-control-statement")
    assert set(kinds[first_statement:-1]) == {"persons-with-significant-control-statement"}
    trailer = records[-1]
    assert "company_number" not in trailer
    counts = Counter(kinds)
    assert (
        trailer["data"]["statements_count"] == counts["persons-with-significant-control-statement"]
    )
    assert trailer["data"]["exemptions_count"] == counts["exemptions"]
    assert trailer["data"]["persons_of_significant_control_count"] == (
        len(records)
        - 1
        - counts["persons-with-significant-control-statement"]
        - counts["exemptions"]
    )
    individual = next(r for r in records if r["data"]["kind"].startswith("individual"))
    assert set(individual["data"]["date_of_birth"]) == {"month", "year"}
    assert any("ceased_on" in r["data"] for r in records)


def test_brreg_csv_has_quoted_multiline_fields_unknown_codes_and_sparse_employees(world):
    raw = read_member(world_file(world, "no_enheter")).decode("utf-8")
    assert raw.splitlines()[0] == ",".join(f'"{h}"' for h in BRREG_HEADER)
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert len(BRREG_HEADER) == 90
    assert any("\n" in r["aktivitet"] for r in rows)
    assert any(r["naeringskode1.kode"] == "00.000" for r in rows)
    assert all(re.fullmatch(r"\d{2}\.\d{3}", r["naeringskode1.kode"]) for r in rows)
    known = sum(1 for r in rows if r["harRegistrertAntallAnsatte"] == "true")
    assert 0 < known / len(rows) <= 0.15
    websites = sum(1 for r in rows if r["hjemmeside"])
    assert 0.13 <= websites / len(rows) <= 0.22
    as_json = json.loads(read_member(world_file(world, "no_enheter_json")))
    assert [o["organisasjonsnummer"] for o in as_json] == [r["organisasjonsnummer"] for r in rows]


def test_brreg_roles_have_ceo_chair_board_and_resigned_roles(world):
    units = json.loads(read_member(world_file(world, "no_roller")))
    roles = [role for u in units for g in u["rollegrupper"] for role in g["roller"]]
    assert {r["type"]["kode"] for r in roles} >= {"DAGL", "LEDE", "MEDL", "REVI"}
    assert any(r["fratraadt"] for r in roles)
    assert any("enhet" in r for r in roles)


def test_bolagsverket_file_has_compounds_a_sole_trader_and_a_malformed_line(world):
    raw = read_member(world_file(world, "se_bolagsverket")).decode("utf-8")
    lines = raw.splitlines()
    assert lines[0].startswith("organisationsidentitet;namnskyddslopnummer;")
    assert any("$PERSON-IDORG" in line for line in lines)
    assert any("|" in line and "ANNATSPRAK-ORGNAM" in line for line in lines)
    assert any('""' in line for line in lines)
    assert any(line.count('";"') != 10 for line in lines[1:]), "one malformed line"


def test_scb_file_is_latin1_with_a_trailing_tab_on_the_header(world):
    raw = read_member(world_file(world, "se_scb"))
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("latin-1")
    assert text.split("\n")[0] == "\t".join(SCB_COLUMNS) + "\t"
    assert any(ch in text for ch in "åäöÅÄÖ")


def test_internet_manifest_follows_contract_a(world):
    entries = domains(world)
    assert len({e["domain"] for e in entries}) == len(entries)
    keys = {"domain", "dns", "mx", "a", "spf", "mail", "pattern", "web"}
    for e in entries:
        assert set(e) == keys
        assert e["domain"] == e["domain"].lower()
        assert not e["domain"].endswith((".test", ".local", ".localhost", ".invalid"))
        assert e["dns"] in {"ok", "nxdomain", "servfail", "timeout"}
        if e["mail"]:
            assert set(e["mail"]) == {
                "behaviour",
                "mailboxes",
                "full",
                "disabled",
                "greylist_seconds",
                "latency_ms",
            }
    behaviours = Counter(e["mail"]["behaviour"] for e in entries if e["mail"])
    assert behaviours.most_common(1)[0][0] == "normal"
    assert {"catch_all", "greylist", "tarpit"} <= set(behaviours)
    assert any(e["mx"] == [[0, "."]] for e in entries), "null MX"
    assert any(e["dns"] == "nxdomain" for e in entries)
    assert any(h.endswith(".yahoodns.net") for e in entries for _, h in e["mx"])
    assert any(h.endswith(".protection.outlook.com") for e in entries for _, h in e["mx"])


def test_decision_makers_mailboxes_follow_the_domain_pattern(world):
    by_domain = {e["domain"]: e for e in domains(world)}
    people = [json.loads(x) for x in (world / "internet" / "people.jsonl").read_text().splitlines()]
    assert len(people) > 100
    checked = 0
    for p in people:
        entry = by_domain[p["domain"]]
        local = p["email"].split("@")[0]
        if entry["pattern"]:
            assert local == local_part(entry["pattern"], p["first"], p["last"])
        boxes = entry["mail"]["mailboxes"] + entry["mail"]["full"] + entry["mail"]["disabled"]
        assert (local in boxes) == p["exists"]
        checked += 1
    assert checked == len(people)


def test_uk_companies_have_no_website_in_the_registry_but_discoverable_sites_name_the_number(world):
    raw = read_member(world_file(world, "ch_basic")).decode("utf-8")
    assert "www." not in raw and "http://business.data.gov.uk" in raw
    numbers = {r[" CompanyNumber"] for r in csv.DictReader(io.StringIO(raw))}
    uk_sites = [e for e in domains(world) if e["web"] and e["web"]["country"] == "GB"]
    named = [e for e in uk_sites if e["web"]["registry_id"]]
    assert len(named) > 50
    assert all(e["web"]["registry_id"] in numbers for e in named)
    assert any(e["web"]["registry_id"] is None for e in uk_sites), "look-alike sites exist"


def test_no_companies_listing_a_website_have_that_domain_in_the_manifest(world):
    rows = list(csv.DictReader(io.StringIO(read_member(world_file(world, "no_enheter")).decode())))
    manifest = {e["domain"] for e in domains(world)}
    sites = [r["hjemmeside"] for r in rows if r["hjemmeside"]]
    for site in sites:
        host = re.sub(r"^https?://", "", site).split("/")[0].removeprefix("www.")
        assert host in manifest


def test_young_companies_are_more_common_and_industries_are_skewed(world):
    rows = list(csv.reader(io.StringIO(read_member(world_file(world, "ch_basic")).decode())))[1:]
    years = [int(r[14][-4:]) for r in rows]
    recent = sum(1 for y in years if y >= 2021)
    older = sum(1 for y in years if 2011 <= y < 2016)
    assert recent > 1.5 * older
    classes = Counter(r[26][:4] for r in rows if re.match(r"\d{5} ", r[26]))
    top, total = classes.most_common(10), sum(classes.values())
    assert sum(n for _, n in top) / total > 0.3


def test_marketing_blocked_share_is_small(world):
    text = read_member(world_file(world, "se_scb")).decode("latin-1").splitlines()
    header = text[0].split("\t")
    col = header.index("Reklamsparrtyp")
    rows = [line.split("\t") for line in text[1:]]
    share = sum(1 for r in rows if r[col]) / len(rows)
    assert 0.0 < share < 0.06


def test_generate_world_command_plain_and_containers_hold_the_same_content(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "generate_world",
        "--seed",
        "3",
        "--companies",
        "200",
        "--out",
        str(tmp_path / "z"),
        stdout=out,
    )
    call_command(
        "generate_world",
        "--seed",
        "3",
        "--companies",
        "200",
        "--out",
        str(tmp_path / "p"),
        "--plain",
        stdout=StringIO(),
    )
    summary = json.loads(out.getvalue())
    assert summary["companies"] == {"GB": 90, "NO": 80, "SE": 30}
    assert summary["import_order"][0] == "ch_basic"
    plain = json.loads((tmp_path / "p" / "world.json").read_text())["files"]
    for zipped, flat in zip(summary["files"], plain, strict=True):
        assert zipped["source"] == flat["source"]
        assert (
            read_member(tmp_path / "z" / zipped["path"])
            == (tmp_path / "p" / flat["path"]).read_bytes()
        )


def test_the_sandbox_servers_load_the_generated_manifest(world):
    from sandbox.servers.manifest import domains_load

    specs = domains_load(world)
    assert len(specs) == len(domains(world))
    assert any(s.null_mx for s in specs.values())
    assert any(s.web and s.web.registry_id for s in specs.values())
