"""Synthetic companies and people, one at a time, each from its own seeded random stream.

Every company is a pure function of (seed, country, index, revision): the world can be written
in one streaming pass at any size, and a later revision of the same seed changes a few companies
(status, address, name, industry, CEO) the way a registry's next month does.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from enrichment import nace
from sandbox.world import vocab

AS_OF_DEFAULT = dt.date(2026, 11, 1)


@dataclass
class Person:
    first: str
    middle: str
    last: str
    birth: dt.date
    nationality: str

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.first, self.middle, self.last) if p)


@dataclass
class Role:
    kind: str  # DAGL, LEDE, MEDL, INNH, REVI (NO); PSC kinds for UK
    person: Person | None
    ended: bool = False
    since: dt.date | None = None
    ended_on: dt.date | None = None
    entity_name: str = ""  # for corporate roles (auditor, corporate PSC)
    entity_id: str = ""
    natures: tuple[str, ...] = ()


@dataclass
class Firm:
    country: str  # GB, NO, SE
    index: int
    registry_id: str
    name: str
    legal_form: str
    status: str
    incorporated: dt.date
    codes: list[str]  # national codes as written in the file
    employees: int | None
    street: str
    postcode: str
    town: str
    region: str
    municipality: str
    website: str | None = None  # registry-listed website (NO)
    email: str | None = None  # registry-listed e-mail (NO)
    phone: str | None = None
    mobile: str | None = None
    marketing_blocked: bool = False
    roles: list[Role] = field(default_factory=list)
    domain: str | None = None  # the company's internet domain (may be unlisted in the registry)
    previous_names: list[tuple[dt.date, str]] = field(default_factory=list)
    account_category: str = ""
    sole_trader_pin: str | None = None  # SE sole trader keyed by personal identity number
    lei: str | None = None
    psc_statement: str | None = None
    dormant: bool = False
    purpose: str = ""
    deregistered: dt.date | None = None


# ---------------------------------------------------------------- industries


@cache
def _industry_table(seed: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """NACE classes in a seed-shuffled rank order with cumulative Zipf weights (s = 1.1)."""
    classes = list(nace.nace_classes())
    random.Random(f"{seed}/industries").shuffle(classes)
    cum, total = [], 0.0
    for rank in range(1, len(classes) + 1):
        total += 1.0 / rank**1.1
        cum.append(total)
    return tuple(classes), tuple(c / total for c in cum)


def pick_classes(rng: random.Random, seed: int) -> list[int]:
    classes, cum = _industry_table(seed)
    k = rng.choices((1, 2, 3, 4), weights=(70, 18, 8, 4))[0]
    out: list[int] = []
    while len(out) < k:
        c = classes[min(bisect.bisect_left(cum, rng.random()), len(classes) - 1)]
        if c not in out:
            out.append(c)
    return out


@cache
def _uk_subclasses() -> dict[int, tuple[str, ...]]:
    table: dict[int, list[str]] = {}
    for code in nace.uk_sic_labels():
        if code not in nace.UK_NON_ACTIVITY:
            table.setdefault(int(code[:4]), []).append(code)
    return {k: tuple(v) for k, v in table.items()}


def uk_sic_text(code: str) -> str:
    return f"{code} - {nace.uk_sic_labels().get(code, '')}"


# ---------------------------------------------------------------- identifiers


def no_orgnr(index: int) -> str:
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    for j in range(11):
        base = f"{80000000 + index * 11 + j:08d}"
        rest = 11 - sum(int(d) * w for d, w in zip(base, weights, strict=True)) % 11
        if rest == 11:
            return base + "0"
        if rest != 10:
            return base + str(rest)
    raise AssertionError("unreachable")


def luhn_digit(digits: str) -> str:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def se_orgnr(index: int) -> str:
    base = f"556{index % 1_000_000:06d}"
    return base + luhn_digit(base)


def se_personnummer(rng: random.Random) -> str:
    d = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 50))
    body = f"{d:%y%m%d}{rng.randrange(1000):03d}"
    return f"{d.year // 100}{body}{luhn_digit(body)}"


def uk_company_number(index: int, rng: random.Random) -> str:
    if index < 1_000_000:
        r = rng.random()
        if r < 0.06:
            return f"SC{index:06d}"
        if r < 0.08:
            return f"NI{index:06d}"
        if r < 0.11:
            return f"OC{index:06d}"
    return f"{10_000_000 + index:08d}"


def lei_for(country: str, index: int) -> str:
    body = f"5493{'00'}{country}{index:010d}"[:18]
    digits = "".join(str(int(ch, 36)) for ch in body) + "00"
    check = 98 - int(digits) % 97
    return f"{body}{check:02d}"


# ---------------------------------------------------------------- text helpers

_TRANSLIT = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u", "é": "e"})


def ascii_fold(text: str) -> str:
    """Lowercase ASCII form used for domains and mailbox local parts: æ->ae, ø->o, å->a, ä->a,
    ö->o, other accents dropped."""
    folded = text.lower().translate(_TRANSLIT)
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return folded


# Trailing words a name-derived domain leaves out: legal forms and group words, stripped from the
# end only ("NORDLYS HOLDING AS" -> nordlys). Discovery strips the same set.
DOMAIN_DROP_TRAILING = frozenset({
    "as", "asa", "ans", "da", "sa", "ab", "publ", "hb", "kb", "aps", "is", "ivs", "oy", "oyj",
    "ay", "ky", "gmbh", "ag", "kg", "ohg", "ug", "ev", "ltd", "limited", "plc", "llp", "lp",
    "llc", "inc", "corp", "co", "company", "nuf", "ba", "bv", "nv", "srl", "spa", "sarl", "sas",
    "holding", "holdings", "group", "gruppen", "konsern",
})  # fmt: skip


def slug_words(name: str) -> list[str]:
    """The words of a name-derived domain: folded to ASCII, trailing legal-form words dropped."""
    words = re.findall(r"[a-z0-9]+", ascii_fold(name))
    while words and words[-1] in DOMAIN_DROP_TRAILING:
        words.pop()
    return words


def local_part(pattern: str, first: str, last: str) -> str:
    f = "".join(re.findall(r"[a-z0-9]+", ascii_fold(first)))
    last_part = "".join(re.findall(r"[a-z0-9]+", ascii_fold(last)))
    return {
        "first.last": f"{f}.{last_part}",
        "firstlast": f"{f}{last_part}",
        "f.last": f"{f[:1]}.{last_part}",
        "flast": f"{f[:1]}{last_part}",
        "first": f,
        "last": last_part,
        "first_last": f"{f}_{last_part}",
    }[pattern]


# ---------------------------------------------------------------- common draws


def _incorporated(rng: random.Random, as_of: dt.date) -> dt.date:
    # Young companies are over-represented: age ~ exponential (mean 7 years), capped at 90.
    age_days = min(int(rng.expovariate(1 / (7 * 365))), 90 * 365)
    return as_of - dt.timedelta(days=age_days + 1)


def _person(rng: random.Random, country: str, as_of: dt.date) -> Person:
    if country == "NO":
        first, last = rng.choice(vocab.NO_FIRST), rng.choice(vocab.NO_LAST)
        middle = rng.choice(vocab.NO_MIDDLE) if rng.random() < 0.2 else ""
        nat = "Norwegian"
    elif country == "GB":
        first, last = rng.choice(vocab.UK_FIRST), rng.choice(vocab.UK_LAST)
        middle = rng.choice(vocab.UK_MIDDLE) if rng.random() < 0.3 else ""
        nat = "British"
    else:
        first, last = rng.choice(vocab.SE_FIRST), rng.choice(vocab.SE_LAST)
        middle = ""
        nat = "Swedish"
    birth = as_of - dt.timedelta(days=rng.randrange(22 * 365, 75 * 365))
    return Person(first=first, middle=middle, last=last, birth=birth, nationality=nat)


_VOCAB = {
    "NO": (vocab.NO_WORDS, vocab.NO_TRADES),
    "GB": (vocab.UK_WORDS, vocab.UK_TRADES),
    "SE": (vocab.SE_WORDS, vocab.SE_TRADES),
}


def _company_name(rng: random.Random, country: str, index: int | None = None) -> str:
    """A company name; with an index, names are distinct within a country (a bijection of the
    index over word combinations), so name-derived domains do not collide."""
    words, trades = _VOCAB[country]
    lw, lt = len(words), len(trades)
    if index is None:
        return f"{rng.choice(words)} {rng.choice(trades)}"
    n2, n3 = lw * lt, lw * lw * lt
    if index < n2:
        j = (index * 7919 + 13) % n2
        return f"{words[j % lw]} {trades[j // lw]}"
    if index < n2 + n3:
        j = ((index - n2) * 7919 + 13) % n3
        a, rest = j % lw, j // lw
        b, c = rest % lw, rest // lw
        if a == b:
            return (
                f"{words[a]} {trades[c]} Gruppen"
                if country != "GB"
                else (f"{words[a]} {trades[c]} Group")
            )
        return f"{words[a]}{words[b].lower()} {trades[c]}"
    j = index % n2
    return f"{words[j % lw]} {trades[j // lw]} {index}"


def _employees(rng: random.Random) -> int | None:
    # ~90 % unknown; the known ones are skewed small.
    if rng.random() < 0.90:
        return None
    return max(1, int(rng.paretovariate(1.2) * 2))


# ---------------------------------------------------------------- per country


def firm_uk(seed: int, index: int, as_of: dt.date) -> Firm:
    rng = random.Random(f"{seed}/GB/{index}")
    number = uk_company_number(index, rng)
    inc = _incorporated(rng, as_of)
    category = rng.choices(
        (
            "Private Limited Company",
            "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)",
            "Limited Liability Partnership",
            "Limited Partnership",
            "Public Limited Company",
            "Overseas Entity",
        ),
        weights=(88, 4, 4, 2, 1, 1),
    )[0]
    if number.startswith("OC"):
        category = "Limited Liability Partnership"
    base = _company_name(rng, "GB", index)
    suffix = {
        "Limited Liability Partnership": " LLP",
        "Limited Partnership": " LP",
        "Public Limited Company": " PLC",
        "Overseas Entity": "",
    }.get(category, " LIMITED")
    name = (base + suffix).upper()
    status = rng.choices(
        ("Active", "Active - Proposal to Strike off", "Liquidation", "In Administration"),
        weights=(92, 4, 3, 1),
    )[0]
    dormant = rng.random() < 0.07
    account_category = (
        "DORMANT"
        if dormant
        else rng.choices(
            (
                "TOTAL EXEMPTION FULL",
                "MICRO ENTITY",
                "SMALL",
                "FULL",
                "UNAUDITED ABRIDGED",
                "NO ACCOUNTS FILED",
                "GROUP",
            ),
            weights=(30, 35, 8, 4, 12, 9, 2),
        )[0]
    )
    codes: list[str] = []
    if dormant:
        codes = ["99999"]
    elif rng.random() < 0.03:
        codes = []  # "None Supplied"
    elif inc.year < 2008 and rng.random() < 0.25:
        codes = [rng.choice(("7499", "7415", "6512", "7020", "5190"))]
    else:
        sub = _uk_subclasses()
        codes = [rng.choice(sub[c]) for c in pick_classes(rng, seed)]
    town, outward, county = rng.choice(vocab.UK_PLACES)
    postcode = f"{outward} {rng.randrange(1, 10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    street = f"{rng.randrange(1, 200)} {rng.choice(vocab.UK_STREETS)}"
    firm = Firm(
        country="GB",
        index=index,
        registry_id=number,
        name=name,
        legal_form=category,
        status=status,
        incorporated=inc,
        codes=codes,
        employees=None,
        street=street,
        postcode=postcode,
        town=town,
        region=county,
        municipality="",
        account_category=account_category,
        dormant=dormant,
    )
    if rng.random() < 0.08:
        firm.previous_names.append(
            (
                inc + dt.timedelta(days=rng.randrange(10, 400)),
                (_company_name(rng, "GB") + " LIMITED").upper(),
            )
        )
    # Owners (PSC)
    r = rng.random()
    if r < 0.72:
        for k in range(rng.choices((1, 2, 3), weights=(60, 30, 10))[0]):
            share = (
                "ownership-of-shares-75-to-100-percent"
                if k == 0 and rng.random() < 0.5
                else rng.choice(
                    ("ownership-of-shares-50-to-75-percent", "ownership-of-shares-25-to-50-percent")
                )
            )
            natures = (share, "voting-rights-" + share.split("-of-shares-")[1])
            if rng.random() < 0.5:
                natures += ("right-to-appoint-and-remove-directors",)
            since = max(inc, dt.date(2016, 4, 6))
            firm.roles.append(
                Role(
                    kind="individual-person-with-significant-control",
                    person=_person(rng, "GB", as_of),
                    since=since,
                    natures=natures,
                )
            )
        if rng.random() < 0.08:  # a former owner
            firm.roles.append(
                Role(
                    kind="individual-person-with-significant-control",
                    person=_person(rng, "GB", as_of),
                    since=max(inc, dt.date(2016, 4, 6)),
                    ended=True,
                    ended_on=as_of - dt.timedelta(days=rng.randrange(30, 900)),
                    natures=("ownership-of-shares-25-to-50-percent",),
                )
            )
    elif r < 0.84:
        firm.roles.append(
            Role(
                kind="corporate-entity-person-with-significant-control",
                person=None,
                since=max(inc, dt.date(2016, 4, 6)),
                entity_name=(_company_name(rng, "GB") + " HOLDINGS LIMITED").upper(),
                entity_id=f"{rng.randrange(10**7, 10**8):08d}",
                natures=("ownership-of-shares-75-to-100-percent",),
            )
        )
    elif r < 0.86:
        firm.roles.append(
            Role(
                kind="legal-person-person-with-significant-control",
                person=None,
                since=max(inc, dt.date(2016, 4, 6)),
                entity_name="THE SECRETARY OF STATE FOR BUSINESS",
                natures=("significant-influence-or-control",),
            )
        )
    elif r < 0.865:
        firm.roles.append(
            Role(
                kind="super-secure-person-with-significant-control",
                person=None,
                since=max(inc, dt.date(2016, 4, 6)),
            )
        )
    elif r < 0.868:
        firm.roles.append(Role(kind="exemptions", person=None, since=max(inc, dt.date(2016, 4, 6))))
    else:
        firm.psc_statement = rng.choice(
            (
                "no-individual-or-entity-with-signficant-control",
                "psc-exists-but-not-identified",
                "steps-to-find-psc-not-yet-completed",
            )
        )
    firm.marketing_blocked = False  # CH has no advertising opt-out
    return firm


NO_FORMS = (
    ("AS", "Aksjeselskap", 55),
    ("ENK", "Enkeltpersonforetak", 25),
    ("NUF", "Norskregistrert utenlandsk foretak", 6),
    ("ANS", "Ansvarlig selskap", 3),
    ("DA", "Selskap med delt ansvar", 2),
    ("ASA", "Allmennaksjeselskap", 1),
    ("FLI", "Forening/lag/innretning", 8),
)


def firm_no(seed: int, index: int, as_of: dt.date) -> Firm:
    rng = random.Random(f"{seed}/NO/{index}")
    orgnr = no_orgnr(index)
    form = rng.choices(NO_FORMS, weights=[f[2] for f in NO_FORMS])[0][0]
    inc = _incorporated(rng, as_of)
    base = _company_name(rng, "NO", index)
    name = (base + (f" {form}" if form in ("AS", "ASA", "ANS", "DA") else "")).upper()
    holding = form == "AS" and rng.random() < 0.06
    if (holding and (as_of - inc).days < 365) or rng.random() < 0.01:
        codes = ["00.000"]  # new holding company, not yet classified by SSB
    elif holding:
        codes = ["64.200"]
    else:
        codes = [
            f"{c // 100:02d}.{c % 100:02d}{rng.choice('0000000129')}"
            for c in pick_classes(rng, seed)
        ][:3]
    status = rng.choices(
        ("active", "konkurs", "underAvvikling", "tvangsavvikling"), weights=(95, 1.5, 2.5, 1)
    )[0]
    town, pprefix, kommune, kommunenr = rng.choice(vocab.NO_PLACES)
    postcode = pprefix + f"{rng.randrange(10 ** (4 - len(pprefix))):0{4 - len(pprefix)}d}"
    street = f"{rng.choice(vocab.NO_STREETS)} {rng.randrange(1, 120)}"
    firm = Firm(
        country="NO",
        index=index,
        registry_id=orgnr,
        name=name,
        legal_form=form,
        status=status,
        incorporated=inc,
        codes=codes,
        employees=_employees(rng),
        street=street,
        postcode=postcode,
        town=town,
        region=kommune,
        municipality=kommunenr,
        purpose=rng.choice(vocab.NO_PURPOSES).format(name=name.title()),
    )
    firm.marketing_blocked = rng.random() < 0.02  # Reservasjonsregisteret stand-in
    if rng.random() < 0.35:
        firm.phone = f"+47 {rng.choice('2357')}{rng.randrange(1, 10)} {rng.randrange(10, 100)} {rng.randrange(10, 100)} {rng.randrange(10, 100)}"
    if rng.random() < 0.30:
        firm.mobile = f"{rng.choice('49')}{rng.randrange(1, 10)}{rng.randrange(0, 10**6):06d}"
    people = []
    if form in ("AS", "ASA", "NUF"):
        if rng.random() < 0.85:
            people.append(Role(kind="DAGL", person=_person(rng, "NO", as_of), since=inc))
        chair = _person(rng, "NO", as_of)
        if people and rng.random() < 0.35:
            chair = people[0].person  # owner-managers chair their own board
        people.append(Role(kind="LEDE", person=chair, since=inc))
        people.extend(
            Role(kind="MEDL", person=_person(rng, "NO", as_of), since=inc)
            for _ in range(rng.choices((0, 1, 2, 3), weights=(40, 25, 25, 10))[0])
        )
        if rng.random() < 0.10:
            people.append(
                Role(kind="DAGL", person=_person(rng, "NO", as_of), since=inc, ended=True)
            )
        if rng.random() < 0.5:
            people.append(
                Role(
                    kind="REVI",
                    person=None,
                    entity_name="REVISJON NORD AS",
                    entity_id="987654325",
                    since=inc,
                )
            )
    elif form == "ENK":
        people.append(Role(kind="INNH", person=_person(rng, "NO", as_of), since=inc))
    elif form in ("ANS", "DA"):
        people.append(Role(kind="DAGL", person=_person(rng, "NO", as_of), since=inc))
        people.extend(
            Role(kind="DTPR", person=_person(rng, "NO", as_of), since=inc) for _ in range(2)
        )
    elif form == "FLI":
        people.append(Role(kind="LEDE", person=_person(rng, "NO", as_of), since=inc))
    firm.roles = people
    return firm


def firm_se(seed: int, index: int, as_of: dt.date) -> Firm:
    rng = random.Random(f"{seed}/SE/{index}")
    sole = rng.random() < 0.04
    inc = _incorporated(rng, as_of)
    base = _company_name(rng, "SE", index)
    town, ppre = rng.choice(vocab.SE_PLACES)
    firm = Firm(
        country="SE",
        index=index,
        registry_id=se_orgnr(index),
        name=base + ("" if sole else " AB"),
        legal_form="E" if sole else "AB",
        status="active",
        incorporated=inc,
        codes=[f"{c:04d}{rng.choice('0000001')}" for c in pick_classes(rng, seed)][:5],
        employees=None,
        street=f"{rng.choice(vocab.SE_STREETS)} {rng.randrange(1, 90)}",
        postcode=f"{ppre}{rng.randrange(100, 1000)}",
        town=town,
        region="",
        municipality="",
    )
    if sole:
        firm.sole_trader_pin = se_personnummer(rng)
    r = rng.random()
    if r < 0.05:
        firm.status = "dissolved"
        firm.deregistered = as_of - dt.timedelta(days=rng.randrange(10, 2000))
    elif r < 0.07:
        firm.status = "liquidation"
    elif r < 0.08:
        firm.status = "bankrupt"
    firm.marketing_blocked = rng.random() < 0.025
    return firm


# ---------------------------------------------------------------- revisions


def firm_revise(firm: Firm, *, seed: int, revision: int, as_of: dt.date) -> Firm:
    """Apply the deterministic month-to-month changes of revisions 1..revision."""
    for rev in range(1, revision + 1):
        rng = random.Random(f"{seed}/{firm.country}/{firm.index}/rev{rev}")
        r = rng.random()
        if r < 0.02:
            if firm.country == "GB":
                firm.street = f"{rng.randrange(1, 200)} {rng.choice(vocab.UK_STREETS)}"
            elif firm.country == "NO":
                firm.street = f"{rng.choice(vocab.NO_STREETS)} {rng.randrange(1, 120)}"
            else:
                firm.street = f"{rng.choice(vocab.SE_STREETS)} {rng.randrange(1, 90)}"
        elif r < 0.03:
            firm.status = {"GB": "Liquidation", "NO": "konkurs", "SE": "liquidation"}[firm.country]
        elif r < 0.04:
            firm.previous_names.insert(0, (as_of, firm.name))
            firm.name = (
                firm.name.replace(" ", " NYE ", 1)
                if firm.country == "NO"
                else ("NEW " + firm.name if firm.country == "GB" else "Nya " + firm.name)
            )
        elif r < 0.05 and firm.codes and firm.codes[0] not in ("99999", "00.000"):
            code = firm.codes[0]
            cls = pick_classes(rng, seed)[0]
            if firm.country == "GB" and len(code) == 5:
                firm.codes[0] = rng.choice(_uk_subclasses()[cls])
            elif firm.country == "NO":
                firm.codes[0] = f"{cls // 100:02d}.{cls % 100:02d}0"
            elif firm.country == "SE":
                firm.codes[0] = f"{cls:04d}0"
        elif r < 0.07 and firm.country == "NO":
            for role in firm.roles:
                if role.kind == "DAGL" and not role.ended:
                    role.ended = True
            firm.roles.append(Role(kind="DAGL", person=_person(rng, "NO", as_of), since=as_of))
        elif r < 0.08 and firm.country == "GB":
            for role in firm.roles:
                if role.person is not None and not role.ended:
                    role.ended, role.ended_on = True, as_of - dt.timedelta(days=3)
                    break
    return firm


def firms(*, seed: int, country: str, count: int, as_of: dt.date, revision: int = 0):
    """Yield the country's companies; a revision adds ~1 % new companies per step."""
    build = {"GB": firm_uk, "NO": firm_no, "SE": firm_se}[country]
    total = count + (count * revision) // 100
    for index in itertools.islice(itertools.count(), total):
        firm = build(seed, index, as_of)
        if revision:
            firm_revise(firm, seed=seed, revision=revision, as_of=as_of)
        yield firm
