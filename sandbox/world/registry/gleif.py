"""GLEIF Golden Copy CSV."""

from __future__ import annotations

import csv

from sandbox.world.firms import Firm
from sandbox.world.registry.sink import Sink, iso

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


GLEIF_RA = {"GB": "RA000585", "NO": "RA000472", "SE": "RA000544"}
GLEIF_ELF = {"GB": "H0PO", "NO": "YI42", "SE": "XJHM"}


class GleifWriter:
    def __init__(self, sink: Sink) -> None:
        self.w = csv.writer(sink.text, quoting=csv.QUOTE_ALL, lineterminator="\n")
        self.w.writerow(GLEIF_COLUMNS)

    def write(self, f: Firm, lei: str) -> None:
        ts = f"{iso(f.incorporated)}T00:00:00.000Z"
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
