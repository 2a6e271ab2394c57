"""Sweden: the Bolagsverket bulk file and the SCB JE file."""

from __future__ import annotations

import datetime as dt

from sandbox.world.firms import Firm
from sandbox.world.registry.sink import Sink, iso

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
        names = f"{f.name}$FORETAGSNAMN-ORGNAM${iso(f.incorporated)}"
        if f.index % 11 == 3:
            names += f"|{f.name.replace(' AB', '')} Sweden$ANNATSPRAK-ORGNAM${iso(f.incorporated)}"
        dereg_date, dereg_reason, proceeding = "", "", ""
        if f.status == "dissolved":
            dereg_date, dereg_reason = (
                iso(f.deregistered),
                ("KKAV-AVORG" if f.index % 2 else "VERKUPP-AVORG"),
            )
        elif f.status == "liquidation":
            proceeding = f"|LI-AVOMFO${iso(f.incorporated + dt.timedelta(days=300))}"
        elif f.status == "bankrupt":
            proceeding = f"KK-AVOMFO${iso(f.incorporated + dt.timedelta(days=300))}"
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
            iso(f.incorporated),
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
