"""Writers for registry bulk files, byte-shaped like the real ones (notes/formats.md §11)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import IO, Any

from enrichment import nace
from sandbox.world.firms import Firm, uk_sic_text

CH_HEADER = (
    "CompanyName, CompanyNumber,RegAddress.CareOf,RegAddress.POBox,RegAddress.AddressLine1,"
    " RegAddress.AddressLine2,RegAddress.PostTown,RegAddress.County,RegAddress.Country,"
    "RegAddress.PostCode,CompanyCategory,CompanyStatus,CountryOfOrigin,DissolutionDate,"
    "IncorporationDate,Accounts.AccountRefDay,Accounts.AccountRefMonth,Accounts.NextDueDate,"
    "Accounts.LastMadeUpDate,Accounts.AccountCategory,Returns.NextDueDate,"
    "Returns.LastMadeUpDate,Mortgages.NumMortCharges,Mortgages.NumMortOutstanding,"
    "Mortgages.NumMortPartSatisfied,Mortgages.NumMortSatisfied,SICCode.SicText_1,"
    "SICCode.SicText_2,SICCode.SicText_3,SICCode.SicText_4,LimitedPartnerships.NumGenPartners,"
    "LimitedPartnerships.NumLimPartners,URI,PreviousName_1.CONDATE, PreviousName_1.CompanyName,"
    " PreviousName_2.CONDATE, PreviousName_2.CompanyName,PreviousName_3.CONDATE,"
    " PreviousName_3.CompanyName,PreviousName_4.CONDATE, PreviousName_4.CompanyName,"
    "PreviousName_5.CONDATE, PreviousName_5.CompanyName,PreviousName_6.CONDATE,"
    " PreviousName_6.CompanyName,PreviousName_7.CONDATE, PreviousName_7.CompanyName,"
    "PreviousName_8.CONDATE, PreviousName_8.CompanyName,PreviousName_9.CONDATE,"
    " PreviousName_9.CompanyName,PreviousName_10.CONDATE, PreviousName_10.CompanyName,"
    "ConfStmtNextDueDate, ConfStmtLastMadeUpDate"
)

BRREG_HEADER = [
    "organisasjonsnummer",
    "navn",
    "organisasjonsform.kode",
    "organisasjonsform.beskrivelse",
    "naeringskode1.kode",
    "naeringskode1.beskrivelse",
    "naeringskode2.kode",
    "naeringskode2.beskrivelse",
    "naeringskode3.kode",
    "naeringskode3.beskrivelse",
    "hjelpeenhetskode.kode",
    "hjelpeenhetskode.beskrivelse",
    "harRegistrertAntallAnsatte",
    "antallAnsatte",
    "registreringsdatoAntallAnsatteEnhetsregisteret",
    "registreringsdatoantallansatteNAVAaregisteret",
    "hjemmeside",
    "epostadresse",
    "telefon",
    "mobil",
    "postadresse.adresse",
    "postadresse.poststed",
    "postadresse.postnummer",
    "postadresse.kommune",
    "postadresse.kommunenummer",
    "postadresse.land",
    "postadresse.landkode",
    "forretningsadresse.adresse",
    "forretningsadresse.poststed",
    "forretningsadresse.postnummer",
    "forretningsadresse.kommune",
    "forretningsadresse.kommunenummer",
    "forretningsadresse.land",
    "forretningsadresse.landkode",
    "institusjonellSektorkode.kode",
    "institusjonellSektorkode.beskrivelse",
    "sisteInnsendteAarsregnskap",
    "registreringsdatoenhetsregisteret",
    "stiftelsesdato",
    "registrertIMvaRegisteret",
    "registreringsdatoMerverdiavgiftsregisteret",
    "registreringsdatoMerverdiavgiftsregisteretEnhetsregisteret",
    "frivilligMvaRegistrertBeskrivelser",
    "registreringsdatoFrivilligMerverdiavgiftsregisteret",
    "registrertIFrivillighetsregisteret",
    "registreringsdatoFrivillighetsregisteret",
    "registrertIForetaksregisteret",
    "registreringsdatoForetaksregisteret",
    "registrertIStiftelsesregisteret",
    "registrertIPartiregisteret",
    "registreringsdatoPartiregisteret",
    "konkurs",
    "konkursdato",
    "underAvvikling",
    "underAvviklingDato",
    "underTvangsavviklingEllerTvangsopplosning",
    "tvangsopplostPgaManglendeDagligLederDato",
    "tvangsopplostPgaManglendeRevisorDato",
    "tvangsopplostPgaManglendeRegnskapDato",
    "tvangsopplostPgaMangelfulltStyreDato",
    "tvangsavvikletPgaManglendeSlettingDato",
    "overordnetEnhet",
    "maalform",
    "vedtektsdato",
    "vedtektsfestetFormaal",
    "aktivitet",
    "paategninger",
    "underUtenlandskInsolvensbehandlingDato",
    "underRekonstruksjonsforhandlingDato",
    "fravalgRevisjonDato",
    "fravalgRevisjonBeslutningsDato",
    "erIKonsern",
    "kapital.belop",
    "kapital.antallAksjer",
    "kapital.type",
    "kapital.bundet",
    "kapital.valuta",
    "kapital.innbetalt",
    "kapital.fulltInnbetalt",
    "kapital.innfortDato",
    "registreringsnummerIHjemlandet",
    "utenlandskRegisterNavn",
    "utenlandskRegisterAdresse.land",
    "utenlandskRegisterAdresse.poststed",
    "utenlandskRegisterAdresse.adresse",
    "underlagtLovgivningLand",
    "underlagtLovgivningLandKode",
    "foretaksformIHjemlandet.kode",
    "foretaksformIHjemlandet.beskrivelse",
    "foretaksformIHjemlandet.beskrivelseBokmaal",
]

BOLAGSVERKET_HEADER = (
    "organisationsidentitet;namnskyddslopnummer;registreringsland;organisationsnamn;"
    "organisationsform;avregistreringsdatum;avregistreringsorsak;"
    "pagandeAvvecklingsEllerOmstruktureringsforfarande;registreringsdatum;"
    "verksamhetsbeskrivning;postadress"
)

SCB_COLUMNS = [
    "ForAndrTyp",
    "COAdress",
    "Foretagsnamn",
    "FtgStat",
    "Gatuadress",
    "JEStat",
    "JurForm",
    "Namn",
    "Ng1",
    "Ng2",
    "Ng3",
    "Ng4",
    "Ng5",
    "PeOrgNr",
    "PostNr",
    "PostOrt",
    "RegDatKtid",
    "Reklamsparrtyp",
    "mCOAdress",
    "mForetagsnamn",
    "mFtgStat",
    "mGatuadress",
    "mJEStat",
    "mJurForm",
    "mNamn",
    "mNg1",
    "mNg2",
    "mNg3",
    "mNg4",
    "mNg5",
    "mPostNr",
    "mPostOrt",
    "mRegDatKtid",
    "mReklamsparrtyp",
]

GLEIF_COLUMNS = (
    "LEI",
    "Entity.LegalName",
    "Entity.LegalName.xmllang",
    "Entity.OtherEntityNames.OtherEntityName.1",
    "Entity.OtherEntityNames.OtherEntityName.1.xmllang",
    "Entity.OtherEntityNames.OtherEntityName.1.type",
    "Entity.LegalAddress.xmllang",
    "Entity.LegalAddress.FirstAddressLine",
    "Entity.LegalAddress.AddressNumber",
    "Entity.LegalAddress.AdditionalAddressLine.1",
    "Entity.LegalAddress.City",
    "Entity.LegalAddress.Region",
    "Entity.LegalAddress.Country",
    "Entity.LegalAddress.PostalCode",
    "Entity.HeadquartersAddress.FirstAddressLine",
    "Entity.HeadquartersAddress.City",
    "Entity.HeadquartersAddress.Country",
    "Entity.HeadquartersAddress.PostalCode",
    "Entity.RegistrationAuthority.RegistrationAuthorityID",
    "Entity.RegistrationAuthority.RegistrationAuthorityEntityID",
    "Entity.LegalJurisdiction",
    "Entity.EntityCategory",
    "Entity.LegalForm.EntityLegalFormCode",
    "Entity.LegalForm.OtherLegalForm",
    "Entity.EntityStatus",
    "Entity.EntityCreationDate",
    "Registration.InitialRegistrationDate",
    "Registration.LastUpdateDate",
    "Registration.RegistrationStatus",
    "Registration.NextRenewalDate",
    "Registration.ManagingLOU",
    "Registration.ValidationSources",
)

ZIP_TIME = (2026, 1, 1, 0, 0, 0)


class Sink:
    """A text stream into a plain, .gz or single-member .zip file, written deterministically."""

    def __init__(
        self,
        path: Path,
        *,
        member: str | None = None,
        encoding: str = "utf-8",
        container: str = "plain",
    ) -> None:
        self.path = path
        self._raw = path.open("wb")
        self._zip: zipfile.ZipFile | None = None
        inner: IO[bytes]
        if container == "zip":
            self._zip = zipfile.ZipFile(
                self._raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
            )
            info = zipfile.ZipInfo(member or path.stem, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            inner = self._zip.open(info, "w", force_zip64=True)
        elif container == "gz":
            inner = gzip.GzipFile(
                filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=1
            )
        else:
            inner = self._raw
        self._inner = inner
        self.text = io.TextIOWrapper(inner, encoding=encoding, newline="", write_through=False)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()
        if self._inner is not self._raw:
            self._inner.close()
        if self._zip is not None:
            self._zip.close()
        self._raw.close()


def _d(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _iso(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _etag(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


# ---------------------------------------------------------------- Companies House


class CHBasicWriter:
    def __init__(self, sink: Sink, as_of: dt.date) -> None:
        self.sink, self.as_of = sink, as_of
        sink.text.write(CH_HEADER + "\r\n")
        self.w = csv.writer(sink.text, quoting=csv.QUOTE_ALL, lineterminator="\r\n")

    def write(self, f: Firm) -> None:
        sic = [uk_sic_text(c) if len(c) == 5 else f"{c} - Non-trading company" for c in f.codes]
        if not sic:
            sic = ["None Supplied"]
        sic += [""] * (4 - len(sic))
        inc = f.incorporated
        ref = dt.date(self.as_of.year, inc.month, min(inc.day, 28) if inc.month == 2 else inc.day)
        last_acc = (
            ref - dt.timedelta(days=365) if (self.as_of - f.incorporated).days > 500 else None
        )
        prev: list[str] = []
        for date, name in f.previous_names[:10]:
            prev += [_d(date), name]
        prev += [""] * (20 - len(prev))
        line2 = ""
        street = f.street
        if f.index % 5 == 0:
            line2 = "UNIT " + str(f.index % 40 + 1)
        lp = f.legal_form == "Limited Partnership"
        self.w.writerow(
            [
                f.name,
                f.registry_id,
                "",
                "",
                street,
                line2,
                f.town,
                f.region,
                "UNITED KINGDOM" if f.index % 3 else "ENGLAND",
                f.postcode,
                f.legal_form,
                f.status,
                "United Kingdom",
                "",
                _d(f.incorporated),
                str(ref.day),
                str(ref.month),
                _d(ref + dt.timedelta(days=270)),
                _d(last_acc),
                f.account_category,
                _d(ref + dt.timedelta(days=30)),
                "",
                str(f.index % 3),
                str(f.index % 2),
                "0",
                "0",
                *sic,
                "1" if lp else "0",
                "2" if lp else "0",
                f"http://business.data.gov.uk/id/company/{f.registry_id}",
                *prev,
                _d(ref + dt.timedelta(days=380)),
                _d(ref + dt.timedelta(days=15)),
            ]
        )


class PSCWriter:
    """NDJSON; statements are held in a spill file and appended at the tail, then the trailer."""

    def __init__(self, sink: Sink, as_of: dt.date, spill: Path) -> None:
        self.sink, self.as_of = sink, as_of
        self.spill_path = spill
        self.spill = spill.open("w", encoding="utf-8")
        self.counts = {"psc": 0, "statements": 0, "exemptions": 0}

    def _line(self, obj: dict) -> None:
        self.sink.text.write(json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n")

    def write(self, f: Firm) -> None:
        num = f.registry_id
        for i, role in enumerate(f.roles):
            etag = _etag(num, i, role.kind)
            data: dict[str, Any] = {"etag": etag, "kind": role.kind}
            kind_path = {
                "individual-person-with-significant-control": "individual",
                "corporate-entity-person-with-significant-control": "corporate-entity",
                "legal-person-person-with-significant-control": "legal-person",
                "super-secure-person-with-significant-control": "super-secure",
            }.get(role.kind)
            if role.kind == "exemptions":
                data["exemptions"] = {
                    "psc_exempt_as_trading_on_regulated_market": {
                        "exemption_type": "psc-exempt-as-trading-on-regulated-market",
                        "items": [{"exempt_from": _iso(role.since)}],
                    }
                }
                data["links"] = {"self": f"/company/{num}/exemptions"}
                self._line({"company_number": num, "data": data})
                self.counts["exemptions"] += 1
                continue
            data["links"] = {
                "self": f"/company/{num}/persons-with-significant-control/{kind_path}/{etag[:27]}"
            }
            if role.kind == "super-secure-person-with-significant-control":
                data["description"] = "super-secure-persons-with-significant-control"
                data["notified_on"] = _iso(role.since)
            else:
                data["notified_on"] = _iso(role.since)
                data["natures_of_control"] = list(role.natures)
                data["address"] = {
                    "address_line_1": f.street.title(),
                    "country": "England",
                    "locality": f.town.title(),
                    "postal_code": f.postcode,
                    "premises": str(f.index % 90 + 1),
                }
            if role.person is not None:
                p = role.person
                title = "Mr" if i % 2 == 0 else "Ms"
                elements = {
                    "forename": p.first,
                    "surname": p.last.upper() if i % 7 == 3 else p.last,
                    "title": title,
                }
                if p.middle:
                    elements["middle_name"] = p.middle
                data.update(
                    {
                        "country_of_residence": "England",
                        "date_of_birth": {"month": p.birth.month, "year": p.birth.year},
                        "name": f"{title} {p.full}",
                        "name_elements": elements,
                        "nationality": p.nationality,
                    }
                )
            elif role.entity_name:
                data["name"] = role.entity_name
                if role.entity_id:
                    data["identification"] = {
                        "country_registered": "England",
                        "legal_authority": "Companies Act 2006",
                        "legal_form": "Private Limited Company",
                        "place_registered": "Companies House",
                        "registration_number": role.entity_id,
                    }
            if role.ended:
                data["ceased_on"] = _iso(role.ended_on or self.as_of)
            self._line({"company_number": num, "data": data})
            self.counts["psc"] += 1
        if f.psc_statement:
            etag = _etag(num, "statement")
            self.spill.write(
                json.dumps(
                    {
                        "company_number": num,
                        "data": {
                            "etag": etag,
                            "kind": "persons-with-significant-control-statement",
                            "links": {
                                "self": f"/company/{num}/persons-with-significant-control-statements/"
                                f"{etag[:27]}"
                            },
                            "notified_on": _iso(max(f.incorporated, dt.date(2016, 4, 6))),
                            "statement": f.psc_statement,
                        },
                    },
                    separators=(",", ":"),
                )
                + "\n"
            )
            self.counts["statements"] += 1

    def finish(self) -> None:
        self.spill.close()
        with self.spill_path.open(encoding="utf-8") as spill:
            for line in spill:
                self.sink.text.write(line)
        self.spill_path.unlink()
        self._line(
            {
                "data": {
                    "exemptions_count": self.counts["exemptions"],
                    "generated_at": f"{self.as_of.isoformat()}T03:12:45Z",
                    "kind": "totals#persons-of-significant-control-snapshot",
                    "persons_of_significant_control_count": self.counts["psc"],
                    "statements_count": self.counts["statements"],
                }
            }
        )


# ---------------------------------------------------------------- Brønnøysund

NO_STATUS_FIELDS = {
    "konkurs": "konkurs",
    "underAvvikling": "underAvvikling",
    "tvangsavvikling": "underTvangsavviklingEllerTvangsopplosning",
}
NO_FORM_LABEL = {
    "AS": "Aksjeselskap",
    "ENK": "Enkeltpersonforetak",
    "ASA": "Allmennaksjeselskap",
    "NUF": "Norskregistrert utenlandsk foretak",
    "ANS": "Ansvarlig selskap",
    "DA": "Selskap med delt ansvar",
    "FLI": "Forening/lag/innretning",
}


def _no_code_label(code: str) -> str:
    if code == "00.000":
        return "Uoppgitt"
    return nace.nace_class_label(int(code[:2] + code[3:5]))


def _no_address(f: Firm) -> list[str]:
    lines = [f.street]
    if f.index % 9 == 4:
        lines.insert(0, "c/o " + f.name.title())
    return lines


class BrregWriter:
    """Enhetsregisteret CSV (quoted, multi-line free text) and JSON array of the same units."""

    def __init__(self, csv_sink: Sink | None, json_sink: Sink | None) -> None:
        self.csv_sink, self.json_sink = csv_sink, json_sink
        self.first = True
        if csv_sink:
            self.w = csv.writer(csv_sink.text, quoting=csv.QUOTE_ALL, lineterminator="\n")
            self.w.writerow(BRREG_HEADER)
        if json_sink:
            json_sink.text.write("[")

    def write(self, f: Firm) -> None:
        codes = f.codes[:3]
        has_emp = f.employees is not None
        row: dict[str, str] = dict.fromkeys(BRREG_HEADER, "")
        row.update(
            {
                "organisasjonsnummer": f.registry_id,
                "navn": f.name,
                "organisasjonsform.kode": f.legal_form,
                "organisasjonsform.beskrivelse": NO_FORM_LABEL[f.legal_form],
                "harRegistrertAntallAnsatte": "true" if has_emp else "false",
                "antallAnsatte": str(f.employees) if has_emp else ("0" if f.index % 3 == 0 else ""),
                "hjemmeside": f.website or "",
                "epostadresse": f.email or "",
                "telefon": f.phone or "",
                "mobil": f.mobile or "",
                "forretningsadresse.adresse": "\n".join(_no_address(f)),
                "forretningsadresse.poststed": f.town,
                "forretningsadresse.postnummer": f.postcode,
                "forretningsadresse.kommune": f.region,
                "forretningsadresse.kommunenummer": f.municipality,
                "forretningsadresse.land": "Norge",
                "forretningsadresse.landkode": "NO",
                "institusjonellSektorkode.kode": "2100",
                "institusjonellSektorkode.beskrivelse": "Private aksjeselskaper mv.",
                "registreringsdatoenhetsregisteret": _iso(f.incorporated),
                "stiftelsesdato": _iso(f.incorporated),
                "registrertIMvaRegisteret": "true" if f.index % 4 else "false",
                "registrertIFrivillighetsregisteret": "false",
                "registrertIForetaksregisteret": "true" if f.legal_form != "FLI" else "false",
                "registrertIStiftelsesregisteret": "false",
                "registrertIPartiregisteret": "false",
                "konkurs": "false",
                "underAvvikling": "false",
                "underTvangsavviklingEllerTvangsopplosning": "false",
                "maalform": "Bokmål",
                "aktivitet": f.purpose,
                "vedtektsfestetFormaal": f.purpose if f.legal_form == "AS" else "",
                "erIKonsern": "false",
            }
        )
        if has_emp:
            row["registreringsdatoAntallAnsatteEnhetsregisteret"] = _iso(f.incorporated)
        for n, code in enumerate(codes, 1):
            row[f"naeringskode{n}.kode"] = code
            row[f"naeringskode{n}.beskrivelse"] = _no_code_label(code)
        status_field = NO_STATUS_FIELDS.get(f.status)
        if status_field:
            row[status_field] = "true"
            if status_field == "konkurs":
                row["konkursdato"] = _iso(f.incorporated + dt.timedelta(days=400))
            elif status_field == "underAvvikling":
                row["underAvviklingDato"] = _iso(f.incorporated + dt.timedelta(days=400))
        if self.csv_sink:
            self.w.writerow(row.values())
        if self.json_sink:
            self._json(f, row, codes)

    def _json(self, f: Firm, row: dict[str, str], codes: list[str]) -> None:
        obj: dict[str, Any] = {
            "organisasjonsnummer": f.registry_id,
            "navn": f.name,
            "organisasjonsform": {"kode": f.legal_form, "beskrivelse": NO_FORM_LABEL[f.legal_form]},
        }
        if f.website:
            obj["hjemmeside"] = f.website
        for key in ("epostadresse", "telefon", "mobil"):
            if row[key]:
                obj[key] = row[key]
        obj["registreringsdatoEnhetsregisteret"] = row["registreringsdatoenhetsregisteret"]
        obj["registrertIMvaregisteret"] = row["registrertIMvaRegisteret"] == "true"
        for n, code in enumerate(codes, 1):
            obj[f"naeringskode{n}"] = {"beskrivelse": _no_code_label(code), "kode": code}
        obj["harRegistrertAntallAnsatte"] = f.employees is not None
        if f.employees is not None:
            obj["antallAnsatte"] = f.employees
        obj["forretningsadresse"] = {
            "land": "Norge",
            "landkode": "NO",
            "postnummer": f.postcode,
            "poststed": f.town,
            "adresse": _no_address(f),
            "kommune": f.region,
            "kommunenummer": f.municipality,
        }
        obj["stiftelsesdato"] = _iso(f.incorporated)
        obj["registrertIForetaksregisteret"] = row["registrertIForetaksregisteret"] == "true"
        obj["konkurs"] = row["konkurs"] == "true"
        obj["underAvvikling"] = row["underAvvikling"] == "true"
        obj["underTvangsavviklingEllerTvangsopplosning"] = (
            row["underTvangsavviklingEllerTvangsopplosning"] == "true"
        )
        if row["konkursdato"]:
            obj["konkursdato"] = row["konkursdato"]
        obj["maalform"] = "Bokmål"
        if f.purpose:
            obj["aktivitet"] = f.purpose.split("\n")
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        self.json_sink.text.write(text if self.first else "," + text)
        self.first = False

    def finish(self) -> None:
        if self.json_sink:
            self.json_sink.text.write("]")


ROLE_GROUPS = {
    "DAGL": ("DAGL", "Daglig leder/ adm.direktør"),
    "INNH": ("INNH", "Innehaver"),
    "LEDE": ("STYR", "Styre"),
    "MEDL": ("STYR", "Styre"),
    "REVI": ("REVI", "Revisor"),
    "DTPR": ("DTPR", "Deltakere med proratarisk ansvar (delt ansvar)"),
}
ROLE_LABELS = {
    "DAGL": "Daglig leder/ adm.direktør",
    "INNH": "Innehaver",
    "LEDE": "Styrets leder",
    "MEDL": "Styremedlem",
    "REVI": "Revisor",
    "DTPR": "Deltaker med proratarisk ansvar (delt ansvar)",
}


class RollerWriter:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.first = True
        sink.text.write("[")

    def write(self, f: Firm) -> None:
        if not f.roles:
            return
        groups: dict[str, dict[str, Any]] = {}
        for order, role in enumerate(f.roles):
            gcode, glabel = ROLE_GROUPS[role.kind]
            group = groups.setdefault(
                gcode,
                {
                    "type": {"kode": gcode, "beskrivelse": glabel},
                    "sistEndret": _iso(role.since),
                    "roller": [],
                },
            )
            entry: dict[str, Any] = {
                "type": {"kode": role.kind, "beskrivelse": ROLE_LABELS[role.kind]}
            }
            if role.person is not None:
                p = role.person
                entry["person"] = {
                    "fodselsdato": _iso(p.birth),
                    "navn": {
                        "fornavn": p.first,
                        **({"mellomnavn": p.middle} if p.middle else {}),
                        "etternavn": p.last,
                    },
                    "erDoed": False,
                }
            else:
                entry["enhet"] = {
                    "organisasjonsnummer": role.entity_id,
                    "organisasjonsform": {"kode": "AS", "beskrivelse": "Aksjeselskap"},
                    "navn": [role.entity_name],
                    "erSlettet": False,
                }
            entry.update({"fratraadt": role.ended, "rekkefolge": order})
            if role.kind == "MEDL":
                entry["valgtAv"] = {"kode": "AKSJ", "beskrivelse": "Valgt av aksjeeierne"}
            group["roller"].append(entry)
        obj = {"organisasjonsnummer": f.registry_id, "rollegrupper": list(groups.values())}
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        self.sink.text.write(text if self.first else ",\n" + text)
        self.first = False

    def finish(self) -> None:
        self.sink.text.write("]")


# ---------------------------------------------------------------- Sweden


def _q(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class BolagsverketWriter:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        sink.text.write(BOLAGSVERKET_HEADER + "\n")
        self.n = 0

    def write(self, f: Firm) -> None:
        self.n += 1
        if f.sole_trader_pin:
            ident, form, lopnr = f"{f.sole_trader_pin}$PERSON-IDORG", "E-ORGFO", "1"
        else:
            ident, form, lopnr = f"{f.registry_id}$ORGNR-IDORG", "AB-ORGFO", ""
        names = f"{f.name}$FORETAGSNAMN-ORGNAM${_iso(f.incorporated)}"
        if f.index % 11 == 3:
            names += f"|{f.name.replace(' AB', '')} Sweden$ANNATSPRAK-ORGNAM${_iso(f.incorporated)}"
        dereg_date, dereg_reason, proceeding = "", "", ""
        if f.status == "dissolved":
            dereg_date, dereg_reason = (
                _iso(f.deregistered),
                ("KKAV-AVORG" if f.index % 2 else "VERKUPP-AVORG"),
            )
        elif f.status == "liquidation":
            proceeding = f"|LI-AVOMFO${_iso(f.incorporated + dt.timedelta(days=300))}"
        elif f.status == "bankrupt":
            proceeding = f"KK-AVOMFO${_iso(f.incorporated + dt.timedelta(days=300))}"
        co = "c/o Någon" if f.index % 7 == 2 else ""
        addr = f"{f.street}${co}${f.town}${f.postcode.replace(' ', '')}$SE-LAND"
        desc = "Konsultverksamhet inom IT"
        if f.index % 13 == 5:
            desc = 'Handel med "begagnade" varor; import och export'
        fields = [
            ident,
            lopnr,
            "SE-LAND",
            names,
            form,
            dereg_date,
            dereg_reason,
            proceeding,
            _iso(f.incorporated),
            desc,
            addr,
        ]
        self.sink.text.write(";".join(_q(x) for x in fields) + "\n")

    def write_malformed(self) -> None:
        # A broken line like the ones real files carry: stray quote, too few fields.
        self.sink.text.write('"5560000000$ORGNR-IDORG";"";"SE-LAND";"Trasig "Rad AB$FORETAGSNAMN\n')


class SCBWriter:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        sink.text.write("\t".join(SCB_COLUMNS) + "\t\n")

    def write(self, f: Firm) -> None:
        if f.sole_trader_pin or f.status == "dissolved":
            return
        row = dict.fromkeys(SCB_COLUMNS, "")
        codes = f.codes[:5] + [""] * (5 - len(f.codes[:5]))
        row.update(
            {
                "ForAndrTyp": "",
                "COAdress": "",
                "Foretagsnamn": f.name,
                "FtgStat": "1",
                "Gatuadress": f.street.upper(),
                "JEStat": "1",
                "JurForm": "49",
                "Namn": f.name,
                "Ng1": codes[0],
                "Ng2": codes[1],
                "Ng3": codes[2],
                "Ng4": codes[3],
                "Ng5": codes[4],
                "PeOrgNr": "16" + f.registry_id,
                "PostNr": f.postcode,
                "PostOrt": f.town,
                "RegDatKtid": f.incorporated.strftime("%Y%m%d"),
                "Reklamsparrtyp": "1" if f.marketing_blocked else "",
            }
        )
        self.sink.text.write("\t".join(row.values()) + "\n")


# ---------------------------------------------------------------- GLEIF

GLEIF_RA = {"GB": "RA000585", "NO": "RA000472", "SE": "RA000544"}
GLEIF_ELF = {"GB": "H0PO", "NO": "YI42", "SE": "XJHM"}


class GleifWriter:
    def __init__(self, sink: Sink) -> None:
        self.w = csv.writer(sink.text, quoting=csv.QUOTE_ALL, lineterminator="\n")
        self.w.writerow(GLEIF_COLUMNS)

    def write(self, f: Firm, lei: str) -> None:
        ts = f"{_iso(f.incorporated)}T00:00:00.000Z"
        row = dict.fromkeys(GLEIF_COLUMNS, "")
        row.update(
            {
                "LEI": lei,
                "Entity.LegalName": f.name,
                "Entity.LegalName.xmllang": "en",
                "Entity.LegalAddress.xmllang": "en",
                "Entity.LegalAddress.FirstAddressLine": f.street,
                "Entity.LegalAddress.City": f.town,
                "Entity.LegalAddress.Country": f.country,
                "Entity.LegalAddress.PostalCode": f.postcode,
                "Entity.HeadquartersAddress.FirstAddressLine": f.street,
                "Entity.HeadquartersAddress.City": f.town,
                "Entity.HeadquartersAddress.Country": f.country,
                "Entity.HeadquartersAddress.PostalCode": f.postcode,
                "Entity.RegistrationAuthority.RegistrationAuthorityID": GLEIF_RA[f.country],
                "Entity.RegistrationAuthority.RegistrationAuthorityEntityID": f.registry_id,
                "Entity.LegalJurisdiction": f.country,
                "Entity.EntityCategory": "GENERAL",
                "Entity.LegalForm.EntityLegalFormCode": GLEIF_ELF[f.country],
                "Entity.EntityStatus": "ACTIVE",
                "Entity.EntityCreationDate": ts,
                "Registration.InitialRegistrationDate": ts,
                "Registration.LastUpdateDate": ts,
                "Registration.RegistrationStatus": "ISSUED",
                "Registration.NextRenewalDate": f"{f.incorporated.year + 30}-01-01T00:00:00.000Z",
                "Registration.ManagingLOU": "5493001KJTIIGC8Y1R12",
                "Registration.ValidationSources": "FULLY_CORROBORATED",
            }
        )
        self.w.writerow(row.values())

    def write_foreign(self, index: int) -> None:
        row = dict.fromkeys(GLEIF_COLUMNS, "")
        row.update(
            {
                "LEI": f"529900FOREIGN{index:05d}42"[:20],
                "Entity.LegalName": f"Beispiel {index} GmbH",
                "Entity.LegalAddress.Country": "DE",
                "Entity.LegalJurisdiction": "DE",
                "Entity.RegistrationAuthority.RegistrationAuthorityID": "RA000242",
                "Entity.RegistrationAuthority.RegistrationAuthorityEntityID": f"HRB {index}",
                "Entity.EntityStatus": "ACTIVE",
                "Registration.RegistrationStatus": "ISSUED",
                "Entity.LegalForm.EntityLegalFormCode": "2HBR",
            }
        )
        self.w.writerow(row.values())
