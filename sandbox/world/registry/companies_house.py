"""Companies House: BasicCompanyData CSV and the PSC snapshot NDJSON."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

from sandbox.world.firms import Firm, uk_sic_text
from sandbox.world.registry.sink import Sink, dmy, etag_for, iso

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
            prev += [dmy(date), name]
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
                dmy(f.incorporated),
                str(ref.day),
                str(ref.month),
                dmy(ref + dt.timedelta(days=270)),
                dmy(last_acc),
                f.account_category,
                dmy(ref + dt.timedelta(days=30)),
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
                dmy(ref + dt.timedelta(days=380)),
                dmy(ref + dt.timedelta(days=15)),
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
            etag = etag_for(num, i, role.kind)
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
                        "items": [{"exempt_from": iso(role.since)}],
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
                data["notified_on"] = iso(role.since)
            else:
                data["notified_on"] = iso(role.since)
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
                data["ceased_on"] = iso(role.ended_on or self.as_of)
            self._line({"company_number": num, "data": data})
            self.counts["psc"] += 1
        if f.psc_statement:
            etag = etag_for(num, "statement")
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
                            "notified_on": iso(max(f.incorporated, dt.date(2016, 4, 6))),
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
