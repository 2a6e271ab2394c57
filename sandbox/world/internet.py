"""The world's internet: one manifest entry per domain (contract A in the helpers' CONTRACTS).

Which companies own a domain, whether the registry lists it, how its mail servers behave, which
mailboxes exist, and whom the company's site names with which number (`web.people`: a direct
number next to the CEO is the person's; the switchboard printed next to them is still the
company's). Mailboxes of decision-makers follow the domain's address pattern, built
from the person's first and last name folded to ASCII (see ``firms.ascii_fold``), so a search that
knows the pattern rules can find and verify them.
"""

from __future__ import annotations

import random
from typing import Any

from sandbox.world import vocab
from sandbox.world.firms import Firm, Role, ascii_fold, local_part, slug_words

PATTERNS = ("first.last", "firstlast", "f.last", "flast", "first", "last", "first_last", None)
PATTERN_WEIGHTS = (45, 10, 10, 10, 12, 3, 5, 5)

BEHAVIOURS = (
    "normal",
    "catch_all",
    "greylist",
    "tarpit",
    "disconnect",
    "second_rcpt_reject",
    "blacklist",
)
BEHAVIOUR_WEIGHTS = (72, 12, 6, 2, 2, 3, 3)

DECISION_KINDS = frozenset(
    {"DAGL", "LEDE", "MEDL", "INNH", "DTPR", "individual-person-with-significant-control"}
)
ROLE_ACCOUNTS = {
    "NO": ("post", "firmapost", "kontakt"),
    "GB": ("info", "hello", "enquiries"),
    "SE": ("info", "kontakt"),
}


def _tld(firm: Firm, rng: random.Random) -> str:
    if firm.country == "GB":
        return ".co.uk" if rng.random() < 0.7 else ".com"
    return ".no" if firm.country == "NO" else ".se"


def name_domain(firm: Firm, tld: str, hyphen: bool) -> str:
    words = slug_words(firm.name)
    return ("-" if hyphen else "").join(words) + tld


# Who a company's site lists by name, and with which number: a direct mobile (the person's own,
# the only kind the search may charge), the company's switchboard or registry phone printed next
# to the CEO (company data all the same), or the name alone.
WEB_PERSON_KINDS = ("direct", "switchboard", "name_only", None)
WEB_PERSON_WEIGHTS = (40, 15, 10, 35)
WEB_TITLES = {
    "DAGL": "Daglig leder",
    "LEDE": "Styreleder",
    "INNH": "Innehaver",
    "DTPR": "Deltaker",
    "individual-person-with-significant-control": "Director",
}


def _direct_number(firm: Firm, rng: random.Random) -> str:
    """A mobile number in the country's plan (never the Ofcom drama range)."""
    d = lambda n: "".join(str(rng.randrange(10)) for _ in range(n))  # noqa: E731
    if firm.country == "GB":
        return f"+44 7{rng.choice('458')}{d(2)} {d(6)}"
    if firm.country == "NO":
        return f"+47 9{d(2)} {d(2)} {d(3)}"
    return f"+46 70 {d(3)} {d(2)} {d(2)}"


def web_people(firm: Firm, *, seed: int, switchboard: str | None) -> list[dict[str, Any]]:
    """The people a company's site names (manifest `web.people`), from their own random stream
    so that adding them changed no other draw of the world. The decision-maker (CEO, owner, sole
    proprietor) is listed with a direct mobile, next to the switchboard/registry number, by name
    only, or not at all; a chair now and then by name."""
    rng = random.Random(f"{seed}/{firm.country}/{firm.index}/web-people")
    company_numbers = {n for n in (firm.phone, firm.mobile, switchboard) if n}
    out: list[dict[str, Any]] = []
    listed: set[str] = set()
    for role in firm.roles:
        p = role.person
        if p is None or role.ended or role.kind not in DECISION_KINDS or p.full in listed:
            continue
        lead_role = role.kind in ("DAGL", "INNH", "individual-person-with-significant-control")
        if lead_role:
            how = rng.choices(WEB_PERSON_KINDS, weights=WEB_PERSON_WEIGHTS)[0]
        else:
            how = "name_only" if rng.random() < 0.15 else None
        if how is None:
            continue
        phone = None
        if how == "direct":
            phone = _direct_number(firm, rng)
            if phone in company_numbers:
                phone = None
        elif how == "switchboard":
            phone = firm.phone or firm.mobile or switchboard  # None: listed by name only
        listed.add(p.full)
        out.append({"name": p.full, "title": WEB_TITLES.get(role.kind, ""), "phone": phone})
    return out


# The site's shape and its team/contact page, from a stream of their own (`site_extras`).
TEAM_PAGES = {
    "NO": (("/om-oss/ansatte", "Ansatte"), ("/kontakt", "Kontakt oss"), ("/om-oss", "Om oss")),
    "SE": (
        ("/om-oss/medarbetare", "Medarbetare"),
        ("/kontakt", "Kontakta oss"),
        ("/om-oss", "Om oss"),
    ),
    "GB": (("/about/team", "Our team"), ("/contact", "Contact us"), ("/about", "About us")),
}
PAGE_LANG = {"NO": "no", "SE": "sv", "GB": "en"}
LEAD_TITLES = {
    "NO": ("Daglig leder", "Administrerende direktør"),
    "SE": ("VD", "Verkställande direktör"),
    "GB": ("Managing Director", "CEO"),
}
CHAIR_TITLES = {"NO": "Styreleder", "SE": "Styrelseordförande", "GB": "Chair"}
STAFF_TITLES = {
    "NO": ("Salgssjef", "Regnskapsansvarlig", "Prosjektleder", "Kundeservice"),
    "SE": ("Säljare", "Ekonomiansvarig", "Projektledare", "Kundtjänst"),
    "GB": ("Sales Manager", "Office Manager", "Project Manager", "Accountant"),
}
NAMES = {
    "NO": (vocab.NO_FIRST, vocab.NO_LAST),
    "SE": (vocab.SE_FIRST, vocab.SE_LAST),
    "GB": (vocab.UK_FIRST, vocab.UK_LAST),
}


def site_extras(
    firm: Firm, *, seed: int, domain: str, pattern: str | None, mail: dict | None
) -> dict[str, Any]:
    """How the company's site is served (HTTPS, www) and its team/contact page (manifest
    `web.https`, `web.www`, `web.robots_disallow`, `web.pages`), from a random stream of its
    own so that no other draw of the world changed. Swedish sites name their VD (Bolagsverket
    names no officers: the site is the only source), often with a direct mobile; Norwegian and
    British ones now and then list the registry's decision-makers and staff on a team page.
    Some team pages are disallowed by robots.txt, answer too slowly or are huge: their people
    are not findable (`WebSpec.findable_people`). A Swedish VD's mailbox follows the domain's
    pattern (added to `mail`)."""
    rng = random.Random(f"{seed}/{firm.country}/{firm.index}/web-site")
    country = firm.country if firm.country in TEAM_PAGES else "GB"
    extras: dict[str, Any] = {"https": rng.random() < 0.7, "www": rng.random() < 0.4}
    people: list[dict[str, Any]] = []
    firsts, lasts = NAMES[country]
    if country == "SE":
        if rng.random() < 0.8:
            first, last = rng.choice(firsts), rng.choice(lasts)
            phone = _direct_number(firm, rng) if rng.random() < 0.7 else None
            people.append(
                {"name": f"{first} {last}", "title": rng.choice(LEAD_TITLES["SE"]), "phone": phone}
            )
            if mail is not None and pattern and rng.random() < 0.9:
                lp = local_part(pattern, first, last)
                if lp not in mail["mailboxes"]:
                    mail["mailboxes"].append(lp)
        if rng.random() < 0.3:
            name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
            people.append({"name": name, "title": CHAIR_TITLES["SE"], "phone": None})
    elif rng.random() < 0.3:
        for role in firm.roles:
            p = role.person
            if p is None or role.ended or role.kind not in DECISION_KINDS:
                continue
            title = CHAIR_TITLES[country] if role.kind == "LEDE" else LEAD_TITLES[country][0]
            if role.kind in ("MEDL", "DTPR"):
                continue
            people.append({"name": p.full, "title": title, "phone": None})
    if not people:
        return extras
    for _ in range(rng.randrange(3)):
        name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
        if all(p["name"] != name for p in people):
            people.append({"name": name, "title": rng.choice(STAFF_TITLES[country]), "phone": None})
    path, title = rng.choice(TEAM_PAGES[country])
    page: dict[str, Any] = {
        "path": path,
        "title": title,
        "lang": PAGE_LANG[country],
        "people": people,
    }
    r = rng.random()
    if r < 0.08:
        extras["robots_disallow"] = [path]
    elif r < 0.12:
        page["slow_seconds"] = 30.0
    elif r < 0.16:
        page["huge_bytes"] = 1_500_000
    extras["pages"] = [page]
    return extras


def _phone(firm: Firm, rng: random.Random) -> str:
    if firm.country == "GB":
        return f"+44 20 7946 0{rng.randrange(1000):03d}"
    if firm.country == "NO":
        return (
            firm.phone
            or f"+47 22 {rng.randrange(10, 100)} {rng.randrange(10, 100)} {rng.randrange(10, 100)}"
        )
    return f"+46 8 {rng.randrange(100, 1000)} {rng.randrange(100, 1000)} {rng.randrange(10, 100)}"


class InternetBuilder:
    """Decides the domain of each company (call ``assign`` before the firm's registry rows are
    written, it may set ``firm.website``/``firm.email``) and yields manifest entries."""

    def __init__(self, *, seed: int) -> None:
        self.seed = seed
        self.used: set[str] = set()
        self.people: list[dict[str, Any]] = []

    def _take(self, domain: str) -> bool:
        if domain in self.used or len(domain) > 63 or domain.startswith((".", "-")):
            return False
        self.used.add(domain)
        return True

    def assign(self, firm: Firm) -> list[dict[str, Any]]:
        rng = random.Random(f"{self.seed}/{firm.country}/{firm.index}/net")
        if firm.sole_trader_pin:
            return []
        r = rng.random()
        hyphen = rng.random() < 0.4
        tld = _tld(firm, rng)
        domain = name_domain(firm, tld, hyphen)
        entries: list[dict[str, Any]] = []
        if firm.country == "NO":
            if r < 0.17:
                listed = "site"
            elif r < 0.27:
                listed = "email"
            elif r < 0.42:
                listed = "unlisted"
            else:
                return []
        elif firm.country == "GB":
            if r < 0.35:
                listed = "unlisted"
            elif r < 0.41:
                # Someone else holds the name-derived domain: its site names no registry number.
                if self._take(domain):
                    entries.append(self._entry(domain, firm, rng, squatter=True))
                return entries
            else:
                return []
        else:
            if r < 0.2:
                listed = "unlisted"
            else:
                return []
        if not self._take(domain):
            return []
        firm.domain = domain
        if listed == "site":
            firm.website = ("www." + domain) if rng.random() < 0.7 else f"https://www.{domain}/"
        if listed in ("site", "email") and rng.random() < (0.5 if listed == "site" else 1.0):
            firm.email = f"{ROLE_ACCOUNTS['NO'][rng.randrange(3)]}@{domain}"
        entries.append(self._entry(domain, firm, rng, squatter=False))
        return entries

    def _entry(self, domain: str, firm: Firm, rng: random.Random, *, squatter: bool) -> dict:
        d = rng.random()
        dns = "ok"
        if d < 0.02:
            dns = "nxdomain"
        elif d < 0.03:
            dns = "servfail"
        elif d < 0.035:
            dns = "timeout"
        if dns != "ok":
            self._record_people(domain, firm, None, exists=False, pattern=None)
            return {
                "domain": domain,
                "dns": dns,
                "mx": [],
                "a": [],
                "spf": None,
                "mail": None,
                "pattern": None,
                "web": None,
            }
        provider = rng.choices(
            ("own", "google", "outlook", "yahoo", "null", "none"), weights=(48, 22, 20, 3, 3, 4)
        )[0]
        label = domain.replace(".", "-")
        mx: list[list[Any]] = {
            "own": [[10, f"mx1.{domain}"], [20, f"mx2.{domain}"]],
            "google": [[1, "aspmx.l.google.com"], [5, "alt1.aspmx.l.google.com"]],
            "outlook": [[0, f"{label}.mail.protection.outlook.com"]],
            "yahoo": [[1, "mta5.am0.yahoodns.net"], [1, "mta6.am0.yahoodns.net"]],
            "null": [[0, "."]],
            "none": [],
        }[provider]
        spf = {
            "own": "v=spf1 mx -all",
            "google": "v=spf1 include:_spf.google.com ~all",
            "outlook": "v=spf1 include:spf.protection.outlook.com -all",
        }.get(provider)
        if spf and rng.random() < 0.25:
            spf = None
        pattern = rng.choices(PATTERNS, weights=PATTERN_WEIGHTS)[0]
        mail = None
        if provider != "null":
            if provider == "yahoo":
                behaviour = "yahoo_like"
            elif provider == "outlook" and rng.random() < 0.3:
                behaviour = "dbeb"
            elif provider == "google":
                behaviour = rng.choices(("normal", "catch_all", "greylist"), weights=(85, 10, 5))[0]
            else:
                behaviour = rng.choices(BEHAVIOURS, weights=BEHAVIOUR_WEIGHTS)[0]
            mail = {
                "behaviour": behaviour,
                "mailboxes": [],
                "full": [],
                "disabled": [],
                "greylist_seconds": 300 if behaviour == "greylist" else 0,
                "latency_ms": 30000 if behaviour == "tarpit" else rng.choice((0, 0, 0, 20, 50)),
            }
            role_account = ROLE_ACCOUNTS[firm.country][
                rng.randrange(len(ROLE_ACCOUNTS[firm.country]))
            ]
            if firm.email and firm.email.endswith("@" + domain):
                role_account = firm.email.split("@")[0]
            mail["mailboxes"].append(role_account)
        web = None
        emails: list[str] = []
        if mail and not squatter:
            mailboxes: set[str] = set(mail["mailboxes"])
            for role in firm.roles:
                if role.person is None or role.kind not in DECISION_KINDS:
                    continue
                p = role.person
                pat = pattern or rng.choices(PATTERNS[:-1], weights=PATTERN_WEIGHTS[:-1])[0]
                lp = local_part(pat, p.first, p.last)
                if lp in mailboxes:
                    continue
                exists = not role.ended and rng.random() < 0.92
                if exists:
                    mailboxes.add(lp)
                    roll = rng.random()
                    if roll < 0.03:
                        mail["full"].append(lp)
                    elif roll < 0.05:
                        mail["disabled"].append(lp)
                    else:
                        mail["mailboxes"].append(lp)
                    if role.kind in ("DAGL", "INNH") and rng.random() < 0.3:
                        emails.append(f"{lp}@{domain}")
                self._record_people(domain, firm, role, exists=exists, pattern=pat)
            emails.insert(0, f"{mail['mailboxes'][0]}@{domain}")
        if squatter:
            web = {
                "company_name": ascii_fold(domain.split(".")[0]).replace("-", " ").title(),
                "country": firm.country,
                "registry_id": None,
                "emails": [],
                "phones": [],
            }
        elif rng.random() < 0.9:
            phones = [_phone(firm, rng)] if rng.random() < 0.8 else []
            web = {
                "company_name": firm.name if firm.country != "GB" else firm.name.title(),
                "country": firm.country,
                "registry_id": firm.registry_id,
                "emails": emails,
                "phones": phones,
                "people": web_people(
                    firm, seed=self.seed, switchboard=phones[0] if phones else None
                ),
            }
            web.update(site_extras(firm, seed=self.seed, domain=domain, pattern=pattern, mail=mail))
        return {
            "domain": domain,
            "dns": "ok",
            "mx": mx,
            "a": ["127.0.0.1"] if (web or provider == "none") else [],
            "spf": spf,
            "mail": mail,
            "pattern": pattern,
            "web": web,
        }

    def _record_people(
        self, domain: str, firm: Firm, role: Role | None, *, exists: bool, pattern: str | None
    ) -> None:
        if role is None or role.person is None or pattern is None:
            return
        p = role.person
        self.people.append(
            {
                "domain": domain,
                "first": p.first,
                "last": p.last,
                "email": f"{local_part(pattern, p.first, p.last)}@{domain}",
                "exists": exists,
            }
        )
