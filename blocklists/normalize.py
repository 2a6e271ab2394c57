"""Normalisation of block-list and suppression identifiers.

The matching query compares these values with directory columns in SQL, so each normaliser here
produces exactly what the directory side looks like:
- e-mail: trimmed, lower-cased (ContactPoint.normalized for e-mails).
- phone: E.164 (ContactPoint.normalized for phones), parsed with phonenumbers; national numbers
  need the country.
- domain: lower-case host without scheme, "www.", port, path or trailing dot (Company.website_domain
  / email_domain). An e-mail address given as a domain keeps its domain part.
- company registry id: "CC:ID" with the ISO country and the registry id upper-cased without spaces,
  as the importers store it: UK numeric ids zero-padded to 8 like Companies House prints them,
  Norwegian 9 digits, Swedish 10 digits without the hyphen.
- company name: `name_key()`, which mirrors the SQL function lp_name_key (migration 0003).

Every normaliser raises `InvalidIdentifier` with a message fit for the user.
"""

from __future__ import annotations

import hashlib
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_LEGAL_SUFFIX = re.compile(
    r"( (ltd|limited|plc|llp|lp|as|asa|ab|publ|aps|a s|oy|oyj|gmbh|inc|llc|sa|bv|nv|co))+$"
)
_NON_ALNUM = re.compile(r"[\W_]+")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidIdentifier(ValueError):
    pass


def normalize_email(value: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidIdentifier("is empty")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidIdentifier(f"{text!r} is not an e-mail address ({exc})") from None
    return result.normalized.lower()


def normalize_phone(value: str, *, country: str = "") -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidIdentifier("is empty")
    region = country.strip().upper() or None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        hint = "" if region or text.startswith("+") else " (give +country code or a country)"
        raise InvalidIdentifier(f"{text!r} is not a phone number{hint}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_domain(value: str) -> str:
    text = (value or "").strip().lower()
    if not text:
        raise InvalidIdentifier("is empty")
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    if text.startswith("www."):
        text = text[4:]
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidIdentifier(f"{value.strip()!r} is not a domain") from None
    labels = text.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise InvalidIdentifier(f"{value.strip()!r} is not a domain")
    return text


def normalize_registry_id(value: str, *, country: str) -> str:
    text = "".join((value or "").split()).upper()
    cc = (country or "").strip().upper()
    if ":" in text:
        given, text = text.split(":", 1)
        if cc and given != cc:
            raise InvalidIdentifier(f"{value!r} names country {given}, not {cc}")
        cc = given
    if not text:
        raise InvalidIdentifier("is empty")
    if not re.fullmatch(r"[A-Z]{2}", cc):
        raise InvalidIdentifier(f"{value!r} needs a country (ISO code like GB, NO, SE)")
    if not re.fullmatch(r"[A-Z0-9-]{1,32}", text):
        raise InvalidIdentifier(f"{value!r} is not a registry id")
    if cc == "GB" and text.isdigit() and len(text) < 8:
        text = text.zfill(8)
    if cc == "NO":
        text = text.replace(".", "").replace("-", "")
        if not re.fullmatch(r"\d{9}", text):
            raise InvalidIdentifier(f"{value!r} is not a Norwegian organisation number (9 digits)")
    if cc == "SE":
        # The directory keeps the 10-digit organisationsnummer without its hyphen; SCB's
        # 12-digit form prefixes it with "16".
        text = text.replace("-", "")
        if re.fullmatch(r"16\d{10}", text):
            text = text[2:]
        if not re.fullmatch(r"\d{10}", text):
            raise InvalidIdentifier(f"{value!r} is not a Swedish organisation number (10 digits)")
    return f"{cc}:{text}"


def name_key(value: str) -> str:
    """Company-name key; must equal SQL lp_name_key(value) (tested)."""
    text = _NON_ALNUM.sub(" ", (value or "").lower()).strip()
    return _LEGAL_SUFFIX.sub("", text).strip()


def normalize_company_name(value: str) -> str:
    key = name_key(value)
    if len(key) < 2:
        raise InvalidIdentifier(f"{(value or '').strip()!r} is too short to block as a name")
    return key


def identifier_hash(normalized: str) -> str:
    """SHA-256 hex of a normalised identifier; equals SQL lp_sha256_hex(normalized)."""
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()
