"""Hand-written files, one quirk of the real registry files each."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from enrichment.importers import registry_import
from enrichment.importers.streams import detect_encoding
from enrichment.models import (
    ChangeEvent,
    Company,
    CompanyIndustry,
    ImportRejection,
    ImportRun,
    Person,
    Role,
)
from sandbox.world.registry import BRREG_HEADER, CH_HEADER, SCB_COLUMNS

pytestmark = pytest.mark.django_db


def _write(
    tmp_path: Path, name: str, text: str, *, encoding: str = "utf-8", container: str = "plain"
) -> Path:
    data = text.encode(encoding)
    path = tmp_path / name
    if container == "gz":
        path.write_bytes(gzip.compress(data, mtime=0))
    elif container == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(name.removesuffix(".zip") + ".csv", data)
    else:
        path.write_bytes(data)
    return path


# ---------------------------------------------------------------- Companies House


def ch_row(
    number: str,
    name: str,
    *,
    inc: str = "29/06/2011",
    sic: tuple[str, ...] = (),
    status: str = "Active",
    account: str = "TOTAL EXEMPTION FULL",
    postcode: str = "RG26 5AT",
    category: str = "Private Limited Company",
) -> str:
    sics = list(sic) + [""] * (4 - len(sic))
    fields = [
        name,
        number,
        "",
        "",
        "UNIT 9 BERRY COURT FARM",
        "LITTLE LONDON",
        "TADLEY",
        "HAMPSHIRE",
        "",
        postcode,
        category,
        status,
        "United Kingdom",
        "",
        inc,
        "29",
        "12",
        "29/09/2022",
        "31/12/2020",
        account,
        "27/07/2017",
        "29/06/2016",
        "1",
        "0",
        "0",
        "1",
        *sics,
        "0",
        "0",
        f"http://business.data.gov.uk/id/company/{number}",
        "15/07/2011",
        "OLD NAME LIMITED",
        *[""] * 18,
        "13/07/2022",
        "29/06/2021",
    ]
    assert len(fields) == 55
    return ",".join('"' + f.replace('"', '""') + '"' for f in fields)


CH_GOOD = [
    ch_row(
        "07687209",
        "!OBAC UK LIMITED",
        sic=("70229 - Management consultancy activities other than financial management",),
    ),
    ch_row(
        "SC123456",
        "HEATHER SOFTWARE LIMITED",
        sic=(
            "62012 - Business and domestic software development",
            "62020 - Information technology consultancy activities",
            "62012 - Business and domestic software development",
        ),
    ),
    ch_row("00012345", "OLD TRADER LIMITED", inc="01/02/1901", sic=("7499 - Non-trading company",)),
    ch_row("09999999", "SLEEPY LIMITED", sic=("99999 - Dormant Company",), account="DORMANT"),
    ch_row("10000001", "QUIET LIMITED", sic=("None Supplied",), postcode="EC1A1BB"),
    ch_row(
        "OC300001",
        "PARTNERS LLP",
        category="Limited Liability Partnership",
        status="Liquidation",
        sic=("69102 - Solicitors",),
    ),
]


@pytest.mark.parametrize("fast", [True, False], ids=["copy", "portable"])
def test_ch_quirks_leading_space_header_legacy_sic_dormant_and_none_supplied(tmp_path, fast):
    path = _write(tmp_path, "ch.csv", CH_HEADER + "\r\n" + "\r\n".join(CH_GOOD) + "\r\n")
    result = registry_import(source="ch_basic", path=path, progress=False, fast=fast)
    assert result.fast_path is fast
    assert result.counts.rows_new == 6 and result.counts.rows_rejected == 0
    obac = Company.objects.get(country="GB", registry_id="07687209")
    assert obac.name == "!OBAC UK LIMITED"
    assert obac.incorporated_on.isoformat() == "2011-06-29"
    assert obac.nace_primary == 7022 and obac.nace_raw == "70229"
    assert obac.postcode_prefix == "RG26" and obac.municipality == "TADLEY"
    assert obac.address == "UNIT 9 BERRY COURT FARM, LITTLE LONDON"
    assert obac.size_band == "small" and obac.employees_min is None
    heather = Company.objects.get(registry_id="SC123456")
    assert heather.nace_raw == "62012;62020;62012"
    assert sorted(heather.industries.values_list("raw_code", "nace_class", "is_primary")) == [
        ("62012", 6201, True),
        ("62020", 6202, False),
    ]
    old = Company.objects.get(registry_id="00012345")
    assert (old.nace_primary, old.nace_raw) == (None, "7499")
    sleepy = Company.objects.get(registry_id="09999999")
    assert (sleepy.status, sleepy.nace_primary, sleepy.size_band) == ("dormant", None, "dormant")
    assert not sleepy.industries.exists()
    quiet = Company.objects.get(registry_id="10000001")
    assert (quiet.nace_raw, quiet.postcode_prefix) == ("", "EC1A")
    llp = Company.objects.get(registry_id="OC300001")
    assert (llp.legal_form, llp.status) == ("llp", "liquidation")


@pytest.mark.parametrize(
    ("fast", "chunk"),
    [(True, None), (True, 100), (False, None)],
    ids=["copy", "copy-small-chunks", "portable"],
)
def test_ch_bad_rows_are_rejected_with_line_numbers_and_the_rest_imports(
    tmp_path, monkeypatch, fast, chunk
):
    if chunk:  # the COPY parts get many chunks each: line numbers still count the whole file
        from enrichment.importers import fastpath

        monkeypatch.setattr(fastpath, "CHUNK_BYTES", chunk)
    rows = [
        *CH_GOOD[:2],
        ch_row("12345678", "BAD DATE LIMITED", inc="31/02/2020"),
        ch_row("", "NO NUMBER LIMITED"),
        ch_row("22222222", "FINE LIMITED"),
    ]
    path = _write(tmp_path, "ch.csv", CH_HEADER + "\n" + "\n".join(rows) + "\n")
    result = registry_import(source="ch_basic", path=path, progress=False, fast=fast)
    assert (result.counts.rows_read, result.counts.rows_new, result.counts.rows_rejected) == (
        5,
        3,
        2,
    )
    reasons = dict(ImportRejection.objects.values_list("line_number", "reason"))
    assert reasons == {
        4: "IncorporationDate: not a DD/MM/YYYY date: '31/02/2020'",
        5: "CompanyNumber: empty",
    }
    assert Company.objects.filter(registry_id="22222222").exists()


@pytest.mark.parametrize("bulk", [False, True], ids=["insert", "bulk-load"])
@pytest.mark.parametrize("fast", [True, False], ids=["copy", "portable"])
def test_ch_duplicate_company_number_last_line_wins(tmp_path, monkeypatch, fast, bulk):
    from enrichment.importers import merge

    if bulk:  # set indexes aside and rebuild them, as a first full import does
        monkeypatch.setattr(merge, "BULK_MIN_ROWS", 1)
        monkeypatch.setattr(merge, "ID_BLOCK_MIN", 1)
    rows = [
        ch_row("33333333", "FIRST NAME LIMITED", sic=("69102 - Solicitors",)),
        *CH_GOOD[:2],
        ch_row(
            "33333333",
            "SECOND NAME LIMITED",
            sic=("62020 - Information technology consultancy activities",),
        ),
    ]
    path = _write(tmp_path, "ch.csv", CH_HEADER + "\n" + "\n".join(rows) + "\n")
    result = registry_import(source="ch_basic", path=path, progress=False, fast=fast)
    assert result.fast_path is fast
    assert (result.counts.rows_read, result.counts.rows_new, result.counts.rows_rejected) == (
        4,
        3,
        1,
    )
    company = Company.objects.get(registry_id="33333333")
    assert company.name == "SECOND NAME LIMITED"
    assert list(company.industries.values_list("raw_code", flat=True)) == ["62020"]
    assert list(ImportRejection.objects.values_list("line_number", "reason")) == [
        (2, "duplicate registry id 33333333: the row on line 5 is used")
    ]
    again = registry_import(source="ch_basic", path=path, progress=False, fast=fast)
    assert (again.counts.rows_new, again.counts.rows_changed) == (0, 0)


def _directory() -> list[tuple]:
    return [
        (
            c.registry_id,
            c.name,
            c.status,
            c.nace_primary,
            c.nace_raw,
            c.payload_hash,
            sorted(c.industries.values_list("raw_code", "nace_class", "is_primary")),
        )
        for c in Company.objects.order_by("registry_id").prefetch_related("industries")
    ]


@pytest.mark.django_db(transaction=True)
def test_ch_bulk_load_in_its_own_transaction_stages_on_a_second_connection(tmp_path, monkeypatch):
    """As production runs it (no caller's transaction around the import), the fast path's
    pass over the file and the industry rows of a bulk load are staged by another
    connection: the result equals the portable path's, rows it rejects get no industries."""
    from enrichment.importers import fastpath, merge

    monkeypatch.setattr(merge, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(merge, "ID_BLOCK_MIN", 1)
    opened = []
    side = fastpath.side_connection
    monkeypatch.setattr(fastpath, "side_connection", lambda: opened.append(1) or side())
    rows = [
        *CH_GOOD,
        ch_row(
            "", "NO NUMBER LIMITED", sic=("62012 - Business and domestic software development",)
        ),
        ch_row("77777777", "BAD DATE LIMITED", inc="31/02/2020", sic=("69102 - Solicitors",)),
    ]
    path = _write(tmp_path, "ch.csv", CH_HEADER + "\n" + "\n".join(rows) + "\n")
    portable = registry_import(source="ch_basic", path=path, progress=False, fast=False)
    expected = _directory()
    Company.objects.all().delete()
    ImportRejection.objects.all().delete()
    ImportRun.objects.all().delete()
    result = registry_import(source="ch_basic", path=path, progress=False)
    assert result.fast_path and opened
    assert (result.counts.rows_new, result.counts.rows_rejected) == (6, 2)
    assert result.counts.rows_new == portable.counts.rows_new
    assert _directory() == expected
    assert CompanyIndustry.objects.count() == 4
    obac = ch_row(
        "07687209",
        "!OBAC UK LIMITED",
        status="Liquidation",
        sic=("70229 - Management consultancy activities other than financial management",),
    )
    changed = [*CH_GOOD[1:], obac]
    path.write_text(CH_HEADER + "\n" + "\n".join(changed) + "\n")
    again = registry_import(source="ch_basic", path=path, progress=False)
    assert (again.counts.rows_new, again.counts.rows_changed) == (0, 1)
    assert list(ChangeEvent.objects.values_list("kind", "new")) == [
        ("status", {"status": "liquidation"})
    ]


def test_ch_file_cut_into_copy_chunks_only_between_records(tmp_path, monkeypatch):
    """Newlines and quotes inside quoted fields never end a COPY chunk."""
    from enrichment.importers import fastpath

    monkeypatch.setattr(fastpath, "CHUNK_BYTES", 64)
    quirky = ch_row("44444444", 'THE "QUOTED"\nNAME LIMITED').replace(
        "UNIT 9 BERRY COURT FARM", 'UNIT 9\n""BERRY""\r\nCOURT FARM'
    )
    rows = [*CH_GOOD[:3], quirky, *CH_GOOD[3:], ch_row("55555555", "LAST LIMITED")]
    path = _write(tmp_path, "ch.csv", CH_HEADER + "\r\n" + "\r\n".join(rows) + "\r\n")
    result = registry_import(source="ch_basic", path=path, progress=False)
    assert result.fast_path is True
    assert (result.counts.rows_read, result.counts.rows_new) == (8, 8)
    company = Company.objects.get(registry_id="44444444")
    assert company.name == 'THE "QUOTED"\nNAME LIMITED'
    assert company.address == 'UNIT 9\n"BERRY"\r\nCOURT FARM, LITTLE LONDON'
    assert Company.objects.get(registry_id="55555555").name == "LAST LIMITED"
    assert Company.objects.get(registry_id="07687209").nace_primary == 7022


def test_ch_row_with_wrong_field_count_falls_back_to_row_by_row_parsing(tmp_path):
    broken = ch_row("33333333", "SHORT LIMITED").rsplit(",", 1)[0]  # 54 fields
    rows = [CH_GOOD[0], broken, CH_GOOD[1]]
    path = _write(tmp_path, "ch.csv", CH_HEADER + "\r\n" + "\r\n".join(rows) + "\r\n")
    result = registry_import(source="ch_basic", path=path, progress=False)
    assert result.fast_path is False
    assert any("COPY refused" in n for n in result.counts.notes)
    assert result.counts.rows_new == 2
    rejection = ImportRejection.objects.get()
    assert (rejection.line_number, rejection.reason) == (3, "expected 55 fields, found 54")


@pytest.mark.parametrize("container", ["zip", "gz"])
def test_ch_containers_are_recognised_by_their_bytes(tmp_path, container):
    path = _write(
        tmp_path,
        "BasicCompanyData-2026-11-01-part1_7.zip" if container == "zip" else "data.bin",
        CH_HEADER + "\r\n" + "\r\n".join(CH_GOOD) + "\r\n",
        container=container,
    )
    result = registry_import(source="ch_basic", path=path, progress=False)
    assert result.counts.rows_new == 6


def test_ch_columns_are_mapped_by_name_not_position(tmp_path):
    names = CH_HEADER.split(",")
    order = list(reversed(range(len(names))))
    import csv
    import io

    rows = [next(csv.reader([r])) for r in CH_GOOD]
    out = io.StringIO()
    w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        w.writerow([row[i] for i in order])
    path = _write(tmp_path, "ch.csv", ",".join(names[i] for i in order) + "\n" + out.getvalue())
    registry_import(source="ch_basic", path=path, progress=False)
    assert Company.objects.get(registry_id="07687209").nace_primary == 7022


def test_ch_latin1_file_is_detected_and_decoded(tmp_path):
    path = _write(
        tmp_path,
        "ch.csv",
        CH_HEADER + "\n" + ch_row("44444444", "CAFÉ NOËL LIMITED") + "\n",
        encoding="latin-1",
    )
    result = registry_import(source="ch_basic", path=path, progress=False)
    assert result.encoding in ("latin-1", "cp1252")
    assert Company.objects.get(registry_id="44444444").name == "CAFÉ NOËL LIMITED"


def test_missing_required_column_fails_loudly_with_the_name(tmp_path):
    header = CH_HEADER.replace("IncorporationDate,", "Incorporated,")
    path = _write(tmp_path, "ch.csv", header + "\n" + CH_GOOD[0] + "\n")
    with pytest.raises(CommandError, match="IncorporationDate"):
        call_command("import_registry", "--source", "ch_basic", str(path))
    assert not Company.objects.exists()


def _ch_file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    return _write(tmp_path, name, CH_HEADER + "\r\n" + "\r\n".join(rows) + "\r\n")


@pytest.mark.parametrize("fast", [True, False], ids=["copy", "portable"])
def test_ch_company_missing_from_the_next_snapshot_is_dissolved(tmp_path, fast):
    first = _ch_file(tmp_path, "ch1.csv", CH_GOOD)
    registry_import(source="ch_basic", path=first, progress=False, fast=fast)
    # Next month: OBAC (active) and the LLP (in liquidation) are gone; HEATHER's row is rejected
    # (bad date) but still names it, so it is not gone.
    heather_bad = ch_row("SC123456", "HEATHER SOFTWARE LIMITED", inc="31/02/2020")
    kept = [r for r in CH_GOOD if '"07687209"' not in r and '"OC300001"' not in r]
    kept = [heather_bad if '"SC123456"' in r else r for r in kept]
    second = _ch_file(tmp_path, "ch2.csv", kept)
    result = registry_import(source="ch_basic", path=second, progress=False, fast=fast).summary()
    assert (result["companies_dissolved"], result["rows_rejected"]) == (2, 1)
    statuses = dict(Company.objects.values_list("registry_id", "status"))
    assert statuses["07687209"] == statuses["OC300001"] == "dissolved"
    assert statuses["SC123456"] == "active" and statuses["09999999"] == "dormant"
    events = {
        e.company.registry_id: (e.old, e.new)
        for e in ChangeEvent.objects.filter(kind="status", import_run_id=result["import_run"])
    }
    assert events == {
        "07687209": (
            {"status": "active"},
            {"status": "dissolved", "reason": "not in the snapshot"},
        ),
        "OC300001": (
            {"status": "liquidation"},
            {"status": "dissolved", "reason": "not in the snapshot"},
        ),
    }
    # The same file again: nothing more to dissolve, no new events.
    again = registry_import(source="ch_basic", path=second, progress=False, fast=fast).summary()
    assert (again["companies_dissolved"], again["change_events"], again["rows_changed"]) == (
        0,
        0,
        0,
    )
    # A later snapshot that lists OBAC again brings it back, as a status change.
    back = registry_import(source="ch_basic", path=first, progress=False, fast=fast).summary()
    assert back["companies_dissolved"] == 0
    assert Company.objects.get(registry_id="07687209").status == "active"
    assert ChangeEvent.objects.filter(
        kind="status",
        import_run_id=back["import_run"],
        company__registry_id="07687209",
        new={"status": "active"},
    ).exists()


def test_ch_missing_companies_are_not_dissolved_by_a_first_or_failed_or_partial_import(tmp_path):
    first = _ch_file(tmp_path, "ch1.csv", CH_GOOD)
    registry_import(source="ch_basic", path=first, progress=False)
    # A failed import (a required column is missing) changes nothing.
    header = CH_HEADER.replace("IncorporationDate,", "Incorporated,")
    broken = _write(tmp_path, "ch2.csv", header + "\n" + CH_GOOD[0] + "\n")
    with pytest.raises(CommandError):
        call_command("import_registry", "--source", "ch_basic", str(broken))
    # A malformed line names no company for sure: nothing is marked, and the import says so.
    short = ch_row("07687209", "!OBAC UK LIMITED").rsplit(",", 1)[0]
    partial = _ch_file(tmp_path, "ch3.csv", [CH_GOOD[1], short])
    result = registry_import(source="ch_basic", path=partial, progress=False)
    assert result.fast_path is False and result.counts.dissolved == 0
    assert any("not marked dissolved" in n for n in result.counts.notes)
    assert not Company.objects.filter(status="dissolved").exists()
    # The first import of a source is the baseline: it dissolves nothing it did not see.
    from enrichment.models import ImportRun

    ImportRun.objects.all().delete()
    only_one = _ch_file(tmp_path, "ch4.csv", CH_GOOD[:1])
    assert registry_import(source="ch_basic", path=only_one, progress=False).counts.dissolved == 0
    assert not Company.objects.filter(status="dissolved").exists()


# ---------------------------------------------------------------- PSC


def _psc(number: str, **data) -> str:
    return json.dumps({"company_number": number, "data": data})


def test_psc_owners_ceased_owners_statements_and_trailer(tmp_path):
    registry_import(
        source="ch_basic",
        progress=False,
        path=_write(tmp_path, "ch.csv", CH_HEADER + "\n" + "\n".join(CH_GOOD) + "\n"),
    )
    individual = {
        "kind": "individual-person-with-significant-control",
        "name_elements": {
            "title": "Mrs",
            "forename": "Jane",
            "middle_name": "Ann",
            "surname": "SMITH",
        },
        "date_of_birth": {"month": 3, "year": 1970},
        "notified_on": "2016-04-06",
        "natures_of_control": ["ownership-of-shares-75-to-100-percent"],
    }
    lines = [
        _psc("07687209", **individual),
        _psc(
            "07687209",
            **{
                **individual,
                "name_elements": {"forename": "Old", "surname": "Owner"},
                "ceased_on": "2020-01-31",
            },
        ),
        _psc("07687209", kind="corporate-entity-person-with-significant-control", name="X LTD"),
        _psc("99999998", **individual),  # a company not in the directory
        "{not json",
        _psc(
            "SC123456",
            kind="persons-with-significant-control-statement",
            statement="psc-exists-but-not-identified",
        ),
        json.dumps(
            {
                "data": {
                    "kind": "totals#persons-of-significant-control-snapshot",
                    "persons_of_significant_control_count": 9,
                    "statements_count": 1,
                    "exemptions_count": 0,
                }
            }
        ),
    ]
    result = registry_import(
        source="ch_psc", path=_write(tmp_path, "psc.txt", "\n".join(lines)), progress=False
    )
    c = result.counts
    assert (c.rows_read, c.rows_new, c.rows_rejected) == (6, 2, 1)
    assert ImportRejection.objects.get().line_number == 5
    assert any("totals trailer says 9" in n for n in c.notes)
    jane = Role.objects.get(person__first_name="Jane")
    assert jane.person.last_name == "Smith" and jane.person.birth_year == 1970
    assert (jane.kind, jane.is_current, jane.started_on.isoformat()) == (
        "owner",
        True,
        "2016-04-06",
    )
    old = Role.objects.get(person__first_name="Old")
    assert (old.is_current, old.ended_on.isoformat()) == (False, "2020-01-31")


# ---------------------------------------------------------------- Brønnøysund


def brreg_csv(rows: list[dict[str, str]], header: list[str] = BRREG_HEADER) -> str:
    def q(v: str) -> str:
        return '"' + v.replace('"', '""') + '"'

    lines = [",".join(q(h) for h in header)]
    lines += [",".join(q(r.get(h, "")) for h in header) for r in rows]
    return "\n".join(lines) + "\n"


NO_ROWS = [
    {
        "organisasjonsnummer": "912345678",
        "navn": "NORDLYS LOGISTIKK AS",
        "organisasjonsform.kode": "AS",
        "naeringskode1.kode": "49.410",
        "naeringskode2.kode": "52.290",
        "harRegistrertAntallAnsatte": "true",
        "antallAnsatte": "7",
        "hjemmeside": "https://www.Nordlys-Logistikk.no/om-oss",
        "epostadresse": "post@nordlys.no",
        "telefon": "+47 22 33 44 55",
        "forretningsadresse.adresse": "c/o Regnskap AS\nStorgata 1",
        "forretningsadresse.postnummer": "0150",
        "forretningsadresse.poststed": "OSLO",
        "forretningsadresse.kommune": "OSLO",
        "forretningsadresse.kommunenummer": "0301",
        "stiftelsesdato": "2017-03-01",
        "konkurs": "false",
        "underAvvikling": "false",
        "aktivitet": 'Transport av gods.\nOg "lagring".',
    },
    {
        "organisasjonsnummer": "987654321",
        "navn": "NY HOLDING AS",
        "organisasjonsform.kode": "AS",
        "naeringskode1.kode": "00.000",
        "harRegistrertAntallAnsatte": "false",
        "antallAnsatte": "0",
        "konkurs": "true",
        "stiftelsesdato": "2026-09-01",
    },
    {"organisasjonsnummer": "12345", "navn": "FEIL AS", "organisasjonsform.kode": "AS"},
    {
        "organisasjonsnummer": "998877665",
        "navn": "AVVIKLING ENK",
        "organisasjonsform.kode": "ENK",
        "underAvvikling": "true",
        "naeringskode1.kode": "43.210",
    },
]


def test_brreg_csv_multiline_fields_unknown_codes_and_employees(tmp_path):
    path = _write(tmp_path, "enheter_alle.csv.gz", brreg_csv(NO_ROWS), container="gz")
    result = registry_import(source="no_enheter", path=path, progress=False)
    assert (result.counts.rows_new, result.counts.rows_rejected) == (3, 1)
    # The bad row starts on line 6: the first record spans lines 2-4 (two embedded newlines).
    rejection = ImportRejection.objects.get()
    assert rejection.line_number == 6 and "organisasjonsnummer" in rejection.reason
    nordlys = Company.objects.get(country="NO", registry_id="912345678")
    assert (nordlys.employees_min, nordlys.employees_max, nordlys.employees_source) == (
        7,
        7,
        "brreg",
    )
    assert nordlys.website_domain == "nordlys-logistikk.no"
    assert nordlys.email_domain == "nordlys.no"
    assert nordlys.address == "c/o Regnskap AS, Storgata 1"
    assert (nordlys.nace_primary, nordlys.nace_raw) == (4941, "49.410;52.290")
    assert CompanyIndustry.objects.filter(company=nordlys).count() == 2
    holding = Company.objects.get(registry_id="987654321")
    assert holding.employees_min is None  # "0" without a registered count is unknown
    assert (holding.nace_primary, holding.nace_raw, holding.status) == (None, "00.000", "bankrupt")
    assert Company.objects.get(registry_id="998877665").status == "liquidation"


def test_brreg_json_array_gives_the_same_companies_as_the_csv(tmp_path):
    registry_import(
        source="no_enheter", progress=False, path=_write(tmp_path, "e.csv", brreg_csv(NO_ROWS))
    )
    fields = (
        "registry_id",
        "name",
        "status",
        "nace_primary",
        "nace_raw",
        "employees_min",
        "website_domain",
        "email_domain",
        "address",
        "postcode",
        "incorporated_on",
    )
    from_csv = sorted(Company.objects.values_list(*fields))
    Company.objects.all().delete()
    units = [
        {
            "organisasjonsnummer": "912345678",
            "navn": "NORDLYS LOGISTIKK AS",
            "organisasjonsform": {"kode": "AS", "beskrivelse": "Aksjeselskap"},
            "naeringskode1": {"kode": "49.410"},
            "naeringskode2": {"kode": "52.290"},
            "harRegistrertAntallAnsatte": True,
            "antallAnsatte": 7,
            "hjemmeside": "https://www.Nordlys-Logistikk.no/om-oss",
            "epostadresse": "post@nordlys.no",
            "telefon": "+47 22 33 44 55",
            "forretningsadresse": {
                "adresse": ["c/o Regnskap AS", "Storgata 1"],
                "postnummer": "0150",
                "poststed": "OSLO",
                "kommune": "OSLO",
                "kommunenummer": "0301",
            },
            "stiftelsesdato": "2017-03-01",
            "konkurs": False,
            "underAvvikling": False,
        },
        {
            "organisasjonsnummer": "987654321",
            "navn": "NY HOLDING AS",
            "organisasjonsform": {"kode": "AS"},
            "naeringskode1": {"kode": "00.000"},
            "harRegistrertAntallAnsatte": False,
            "konkurs": True,
            "stiftelsesdato": "2026-09-01",
        },
        {
            "organisasjonsnummer": "998877665",
            "navn": "AVVIKLING ENK",
            "organisasjonsform": {"kode": "ENK"},
            "underAvvikling": True,
            "naeringskode1": {"kode": "43.210"},
        },
    ]
    path = _write(tmp_path, "e.json.gz", json.dumps(units, ensure_ascii=False), container="gz")
    result = registry_import(source="no_enheter", path=path, progress=False)
    assert result.counts.rows_new == 3
    assert sorted(Company.objects.values_list(*fields)) == from_csv


def test_brreg_older_file_without_contact_columns_still_imports(tmp_path):
    header = [h for h in BRREG_HEADER if h not in ("epostadresse", "telefon", "mobil")]
    path = _write(tmp_path, "e.csv", brreg_csv(NO_ROWS[:1], header=header))
    assert registry_import(source="no_enheter", path=path, progress=False).counts.rows_new == 1


def _roller(units: list[tuple[str, list[dict]]]) -> str:
    def role(code: str, first: str, last: str, *, ended: bool = False, entity: bool = False):
        entry: dict = {"type": {"kode": code}, "fratraadt": ended}
        if entity:
            entry["enhet"] = {"organisasjonsnummer": "987654325", "navn": ["REVISJON AS"]}
        else:
            entry["person"] = {
                "fodselsdato": "1971-05-17",
                "navn": {"fornavn": first, "etternavn": last},
                "erDoed": False,
            }
        return entry

    return json.dumps(
        [
            {
                "organisasjonsnummer": orgnr,
                "rollegrupper": [{"type": {"kode": "X"}, "roller": [role(**r) for r in roles]}],
            }
            for orgnr, roles in units
        ]
    )


def test_brreg_roles_ceo_chair_board_resigned_and_ended_next_time(tmp_path):
    registry_import(
        source="no_enheter", progress=False, path=_write(tmp_path, "e.csv", brreg_csv(NO_ROWS))
    )
    first = [
        (
            "912345678",
            [
                {"code": "DAGL", "first": "Kari", "last": "Nordmann"},
                {"code": "LEDE", "first": "Kari", "last": "Nordmann"},
                {"code": "MEDL", "first": "Ola", "last": "Hansen"},
                {"code": "DAGL", "first": "Per", "last": "Gammel", "ended": True},
                {"code": "REVI", "first": "", "last": "", "entity": True},
            ],
        ),
        ("111111118", [{"code": "DAGL", "first": "Ukjent", "last": "Selskap"}]),
    ]
    result = registry_import(
        source="no_roller", path=_write(tmp_path, "r1.json", _roller(first)), progress=False
    )
    assert (result.counts.rows_new, result.counts.rows_skipped) == (4, 2)
    kari = Person.objects.get(first_name="Kari")
    assert kari.birth_year == 1971
    assert sorted(kari.roles.values_list("kind", flat=True)) == ["ceo", "chair"]
    assert Role.objects.get(person__first_name="Per").is_current is False
    assert not Person.objects.filter(full_name__contains="1971").exists()
    # Next night: Ola left the board, a new CEO arrived.
    second = [
        (
            "912345678",
            [
                {"code": "DAGL", "first": "Kari", "last": "Nordmann", "ended": True},
                {"code": "DAGL", "first": "Nina", "last": "Ny"},
                {"code": "LEDE", "first": "Kari", "last": "Nordmann"},
            ],
        )
    ]
    registry_import(
        source="no_roller", path=_write(tmp_path, "r2.json", _roller(second)), progress=False
    )
    events = sorted(ChangeEvent.objects.values_list("kind", "person__first_name"))
    assert events == [("role_added", "Nina"), ("role_ended", "Kari"), ("role_ended", "Ola")]
    assert Role.objects.get(person__first_name="Ola").is_current is False
    assert Role.objects.get(person__first_name="Kari", kind="chair").is_current is True


# ---------------------------------------------------------------- Sweden

BV_HEADER = (
    "organisationsidentitet;namnskyddslopnummer;registreringsland;organisationsnamn;"
    "organisationsform;avregistreringsdatum;avregistreringsorsak;"
    "pagandeAvvecklingsEllerOmstruktureringsforfarande;registreringsdatum;"
    "verksamhetsbeskrivning;postadress"
)
BV_LINES = [
    '"5566778899$ORGNR-IDORG";"";"SE-LAND";"Nordlys Logistik AB$FORETAGSNAMN-ORGNAM$2001-02-03'
    '|Nordlys Logistics$ANNATSPRAK-ORGNAM$2005-01-01";"AB-ORGFO";"";"";"";"2001-02-03";'
    '"Handel med ""begagnade"" varor";"Box 4$c/o Någon$ÖSTERSUND$83100$SE-LAND"',
    '"199001019999$PERSON-IDORG";"1";"SE-LAND";"Kalles Måleri$FORETAGSNAMN-ORGNAM$2015-01-01";'
    '"E-ORGFO";"";"";"";"2015-01-01";"Måleri";"Gatan 1$$UMEÅ$90325$SE-LAND"',
    '"5560000000$ORGNR-IDORG";"";"SE-LAND";"Trasig "Rad AB$FORETAGSNAMN',
    '"5561234567$ORGNR-IDORG";"";"SE-LAND";"Avvecklas AB$FORETAGSNAMN-ORGNAM$2010-01-01";'
    '"AB-ORGFO";"";"";"|LI-AVOMFO$2026-04-01";"2010-01-01";"";"Vägen 2$$MALMÖ$21120$SE-LAND"',
    '"5569999999$ORGNR-IDORG";"";"SE-LAND";"Borta AB$FORETAGSNAMN-ORGNAM$2010-01-01";'
    '"AB-ORGFO";"2024-05-01";"KKAV-AVORG";"";"2010-01-01";"";"$$$$SE-LAND"',
]


def test_bolagsverket_latin1_compounds_sole_trader_and_malformed_line(tmp_path):
    path = _write(
        tmp_path,
        "bolagsverket_bulkfil.txt",
        BV_HEADER + "\n" + "\n".join(BV_LINES) + "\n",
        encoding="latin-1",
    )
    result = registry_import(source="se_bolagsverket", path=path, progress=False)
    c = result.counts
    assert result.encoding in ("latin-1", "cp1252")
    assert (c.rows_read, c.rows_new, c.rows_skipped, c.rows_rejected) == (5, 3, 1, 1)
    assert ImportRejection.objects.get().line_number == 4
    nordlys = Company.objects.get(country="SE", registry_id="5566778899")
    assert nordlys.name == "Nordlys Logistik AB"
    assert (nordlys.address, nordlys.municipality, nordlys.postcode) == (
        "c/o Någon, Box 4",
        "ÖSTERSUND",
        "83100",
    )
    assert Company.objects.get(registry_id="5561234567").status == "liquidation"
    assert Company.objects.get(registry_id="5569999999").status == "dissolved"
    # The sole trader's personal identity number is stored nowhere.
    from django.db import connection

    with connection.cursor() as cur:
        for table in (
            "enrichment_company",
            "enrichment_importrejection",
            "enrichment_changeevent",
            "enrichment_person",
        ):
            cur.execute(
                f"SELECT COUNT(*) FROM {table} WHERE CAST({table}.* AS text) "  # noqa: S608
                "LIKE '%%199001019999%%'"
            )
            assert cur.fetchone()[0] == 0, table
    assert not Company.objects.filter(name__startswith="Kalles").exists()


def test_scb_latin1_trailing_tab_sni_codes_and_advertising_block(tmp_path):
    def line(**values: str) -> str:
        return "\t".join(values.get(c, "") for c in SCB_COLUMNS)

    text = (
        "\t".join(SCB_COLUMNS)
        + "\t\n"
        + "\n".join(
            [
                line(
                    Foretagsnamn="Älvdalens Bageri AB",
                    PeOrgNr="165566778899",
                    Ng1="10710",
                    Ng2="47241",
                    Reklamsparrtyp="1",
                    PostNr="79630",
                    PostOrt="ÄLVDALEN",
                    Gatuadress="STORGATAN 1",
                    JurForm="49",
                ),
                line(Foretagsnamn="Öppen AB", PeOrgNr="165561234567", Ng1="62010") + "\t",
                line(Foretagsnamn="Person", PeOrgNr="199001019999"),
                line(Foretagsnamn="Fel", PeOrgNr="12"),
            ]
        )
        + "\n"
    )
    path = _write(tmp_path, "scb.txt", text, encoding="latin-1")
    result = registry_import(source="se_scb", path=path, progress=False)
    assert (result.counts.rows_new, result.counts.rows_skipped, result.counts.rows_rejected) == (
        2,
        1,
        1,
    )
    bageri = Company.objects.get(country="SE", registry_id="5566778899")
    assert bageri.name == "Älvdalens Bageri AB" and bageri.municipality == "ÄLVDALEN"
    assert bageri.marketing_blocked is True
    assert (bageri.nace_primary, bageri.nace_raw) == (1071, "10710;47241")
    assert sorted(bageri.industries.values_list("code_system", "nace_class")) == [
        ("sni2007", 1071),
        ("sni2007", 4724),
    ]
    assert Company.objects.get(registry_id="5561234567").marketing_blocked is False


def test_gleif_sets_lei_only_on_known_companies(tmp_path):
    registry_import(
        source="ch_basic",
        progress=False,
        path=_write(tmp_path, "ch.csv", CH_HEADER + "\n" + "\n".join(CH_GOOD) + "\n"),
    )
    header = (
        "LEI,Entity.LegalName,Entity.LegalAddress.Country,"
        "Entity.RegistrationAuthority.RegistrationAuthorityID,"
        "Entity.RegistrationAuthority.RegistrationAuthorityEntityID,"
        "Entity.LegalJurisdiction,Entity.LegalForm.EntityLegalFormCode"
    )
    rows = [
        '"213800ABCDEFGHIJKL12","!OBAC UK LIMITED","GB","RA000585","07687209","GB","H0PO"',
        '"529900ABCDEFGHIJKL34","Beispiel GmbH","DE","RA000242","HRB 1","DE","2HBR"',
        '"213800ZZZZZZZZZZZZ56","Unknown Ltd","GB","RA000585","55555555","GB","H0PO"',
        '"BAD","Bad","GB","RA000585","07687209","GB","H0PO"',
    ]
    path = _write(tmp_path, "gleif.csv", header + "\n" + "\n".join(rows) + "\n")
    result = registry_import(source="gleif", path=path, progress=False)
    c = result.counts
    assert (c.rows_read, c.rows_changed, c.rows_skipped, c.rows_rejected) == (4, 1, 2, 1)
    assert Company.objects.get(registry_id="07687209").lei == "213800ABCDEFGHIJKL12"
    assert Company.objects.count() == 6


def test_encoding_detection():
    assert detect_encoding("Brønnøysund".encode()) == "utf-8"
    assert detect_encoding("\ufeffa,b".encode()) == "utf-8-sig"
    sample = ("Företagsnamn\tÄlvdalens Bageri AB\tÖSTERSUND\n" * 50).encode("latin-1")
    assert detect_encoding(sample) in ("latin-1", "cp1252")
    # A sample cut inside a multi-byte character is still UTF-8.
    assert detect_encoding(("Bø" * 100).encode()[:-1]) == "utf-8"


@pytest.mark.parametrize("fast", [True, False], ids=["copy", "portable"])
def test_ch_columns_the_directory_does_not_keep_are_not_a_change(tmp_path, fast):
    first = _write(tmp_path, "a.csv", CH_HEADER + "\n" + "\n".join(CH_GOOD) + "\n")
    registry_import(source="ch_basic", path=first, progress=False, fast=fast)
    # Next month: every accounts due date moved, one company moved its registered office.
    moved = [r.replace('"29/09/2022"', '"29/09/2023"') for r in CH_GOOD]
    moved[0] = moved[0].replace("UNIT 9 BERRY COURT FARM", "UNIT 10 BERRY COURT FARM")
    second = _write(tmp_path, "b.csv", CH_HEADER + "\n" + "\n".join(moved) + "\n")
    result = registry_import(source="ch_basic", path=second, progress=False, fast=fast)
    assert (result.counts.rows_changed, result.counts.rows_unchanged) == (1, 5)
    event = ChangeEvent.objects.get()
    assert event.kind == "address"
    assert event.new["address"].startswith("UNIT 10")
