"""Brønnøysundregistrene: Enhetsregisteret CSV + JSON array, and roles (totalbestand)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from typing import Any

from enrichment import nace
from sandbox.world.firms import Firm
from sandbox.world.registry.sink import Sink, iso

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
                "registreringsdatoenhetsregisteret": iso(f.incorporated),
                "stiftelsesdato": iso(f.incorporated),
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
            row["registreringsdatoAntallAnsatteEnhetsregisteret"] = iso(f.incorporated)
        for n, code in enumerate(codes, 1):
            row[f"naeringskode{n}.kode"] = code
            row[f"naeringskode{n}.beskrivelse"] = _no_code_label(code)
        status_field = NO_STATUS_FIELDS.get(f.status)
        if status_field:
            row[status_field] = "true"
            if status_field == "konkurs":
                row["konkursdato"] = iso(f.incorporated + dt.timedelta(days=400))
            elif status_field == "underAvvikling":
                row["underAvviklingDato"] = iso(f.incorporated + dt.timedelta(days=400))
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
        obj["stiftelsesdato"] = iso(f.incorporated)
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
                    "sistEndret": iso(role.since),
                    "roller": [],
                },
            )
            entry: dict[str, Any] = {
                "type": {"kode": role.kind, "beskrivelse": ROLE_LABELS[role.kind]}
            }
            if role.person is not None:
                p = role.person
                entry["person"] = {
                    "fodselsdato": iso(p.birth),
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
