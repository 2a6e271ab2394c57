"""People named on a company's own website (DESIGN.md section 5, step 5).

Team, contact and about pages print people as "Kari Nordmann, Daglig leder · +47 912 34 567",
or the name in one block and the title in the next. `site_people` reads them off the pages a
`SiteVisit` read: a name of two to four capitalised words (also "Nordmann, Kari"), and a title;
a wanted title (CEO, VD, daglig leder, managing director, chair, styrelseordförande, owner …)
gives the role kind. Each mention carries a confidence:

- 0.85 name and wanted title in one block, 0.75 in two adjacent blocks, 0.5 another title,
  0.4 a name alone in a list of people;
- +0.1 when the same block lists a number or an address (a person the site means to be reached).

`mention_matches` compares a mention with a registry officer on folded names: diacritics and
case ignored, middle names skipped (first given name and last family name must agree), either
order. A page that names someone else, or nobody, is not the officer's: nothing on it is
attributed to them (phone attribution in `enrichment.discovery` requires the person's name in
the number's block).

`site_decision_makers_create` is the directory side: for companies whose registry names no
wanted officer (Bolagsverket's bulk file names none), a person the company's own site names with
a wanted title becomes a Person and a current Role, with the page URL and the confidence in
`Role.details` (`source: "website"`); only mentions at or above
LEADPILOT_SITE_PERSON_MIN_CONFIDENCE are kept. Idempotent (keyed on company and folded name).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from enrichment.verification.candidates import name_fold
from enrichment.verification.discovery import LEGAL_FORMS
from enrichment.web.fetch import SiteVisit
from enrichment.web.parse import WebPage

# Folded title phrases -> role kind (enrichment.models.RoleKind values), longest first when
# matching. English and Scandinavian, as small companies' sites write them.
TITLE_KINDS: dict[str, str] = {
    "ceo": "ceo",
    "chief executive officer": "ceo",
    "chief executive": "ceo",
    "managing director": "ceo",
    "general manager": "ceo",
    "daglig leder": "ceo",
    "administrerende direktor": "ceo",
    "adm dir": "ceo",
    "adm direktor": "ceo",
    "vd": "ceo",
    "verkstallande direktor": "ceo",
    "toimitusjohtaja": "ceo",
    "administrerende direktoer": "ceo",
    "chair": "chair",
    "chairman": "chair",
    "chairwoman": "chair",
    "chairperson": "chair",
    "chair of the board": "chair",
    "styreleder": "chair",
    "styrets leder": "chair",
    "styreformann": "chair",
    "styrelseordforande": "chair",
    "ordforande": "chair",
    "owner": "owner",
    "innehaver": "owner",
    "eier": "owner",
    "agare": "owner",
    "founder and ceo": "ceo",
}
# Titles that are not decision-makers: such a block names a person, with no wanted role.
OTHER_TITLE_WORDS = frozenset(
    {"sales", "salg", "saljare", "selger", "manager", "sjef", "chef", "konsulent", "consultant",
     "assistant", "assistent", "ekonomi", "regnskap", "accountant", "engineer", "ingenior",
     "tekniker", "technician", "radgiver", "advisor", "coordinator", "koordinator", "support",
     "kundeservice", "kundtjanst", "marketing", "markedsforing", "officer", "head", "leder",
     "ansvarlig", "ansvarig", "developer", "utvikler", "utvecklare", "designer", "partner",
     "director", "direktor", "board", "member", "styremedlem", "ledamot", "hr", "cfo", "cto",
     "coo", "administrator", "prosjektleder", "projektledare", "montor", "snickare",
     "deltaker", "delagare", "secretary", "sekretaer"}
)  # fmt: skip
# "Kari", "Bjørn-Åge", "O'Brien", "McDonald".
_NAME_PART = r"[A-ZÀ-ÖØ-Þ](?:[a-zà-öø-ÿ'\u2019]|(?<=[a-z'\u2019])[A-ZÀ-ÖØ-Þ])+"
_NAME_WORD = re.compile(rf"^{_NAME_PART}(?:-{_NAME_PART})*$")
_PARTICLES = frozenset({"van", "von", "de", "der", "den", "af", "av", "la", "le", "du"})
_SPLIT = re.compile(r"\s*(?:[,\u00b7\u2022|:;]|\s[\u2013\u2014-]\s|\s/\s)\s*")

CONF_SAME_BLOCK = 0.85
CONF_ADJACENT = 0.75
CONF_OTHER_TITLE = 0.5
CONF_NAME_ONLY = 0.4
CONF_CONTACT_BONUS = 0.1


@dataclass(frozen=True)
class Mention:
    """A person a page names: display name, first/last as written, title, role kind."""

    name: str
    first: str
    middle: str
    last: str
    title: str
    kind: str | None  # RoleKind value of a wanted title, else None
    page: str
    confidence: float
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return asdict(self)


def _name_words(segment: str) -> list[str] | None:
    words = segment.split()
    if not 2 <= len(words) <= 4:
        return None
    for w in words:
        if w.lower() in _PARTICLES:
            continue
        if not _NAME_WORD.match(w):
            return None
    if title_kind(segment) or _other_title(segment):
        return None
    return words


def title_kind(text: str) -> str | None:
    """The role kind of a wanted title in `text` ('VD', 'Daglig leder', 'Managing Director')."""
    folded = " " + re.sub(r"[^a-z ]", " ", name_fold(text).replace("-", " ")) + " "
    folded = " ".join(folded.split())
    padded = f" {folded} "
    for phrase in sorted(TITLE_KINDS, key=len, reverse=True):
        if f" {phrase} " in padded:
            return TITLE_KINDS[phrase]
    return None


# Scandinavian titles are compounds ("salgssjef", "ekonomiansvarig", "projektledare").
OTHER_TITLE_SUFFIXES = (
    "sjef", "chef", "ansvarlig", "ansvarig", "leder", "ledare", "manager", "konsulent",
    "radgiver", "assistent", "selger", "saljare", "direktor", "tjanst", "service",
)  # fmt: skip


def _other_title(text: str) -> bool:
    words = set(name_fold(text).replace("-", " ").split())
    return bool(words & OTHER_TITLE_WORDS) or any(w.endswith(OTHER_TITLE_SUFFIXES) for w in words)


def _split_name(words: list[str]) -> tuple[str, str, str]:
    """(first, middle, last): particles ('van der') stay with the family name."""
    i = len(words) - 1
    while i > 1 and words[i - 1].lower() in _PARTICLES:
        i -= 1
    return words[0], " ".join(words[1:i]), " ".join(words[i:])


def _block_mention(text: str) -> tuple[list[str], list[str], str] | None:
    """(name words in first-last order, the remaining segments, how) from a block's text."""
    segments = [s for s in _SPLIT.split(text) if s]
    if not segments:
        return None
    words = _name_words(segments[0])
    if words is not None:
        return words, segments[1:], "first_last"
    # "Nordmann, Kari, Daglig leder": one family name, then the given name(s).
    if len(segments) >= 2 and _NAME_WORD.match(segments[0]) and len(segments[1].split()) <= 2:
        given = segments[1].split()
        if all(_NAME_WORD.match(w) for w in given) and not title_kind(segments[1]):
            return [*given, segments[0]], segments[2:], "last_first"
    return None


PEOPLE_HEADINGS = (
    "kontaktperson", "contact person", "our people", "our team", "team", "ansatte",
    "medarbetare", "medarbeidere", "ledelse", "ledning", "styret", "styrelse", "board",
    "management", "people", "personal",
)  # fmt: skip


def _people_heading(text: str) -> bool:
    folded = " ".join(name_fold(text).split())
    return len(folded.split()) <= 4 and any(h in folded for h in PEOPLE_HEADINGS)


def site_people(pages: Sequence[WebPage]) -> list[Mention]:
    """Every person the pages name with a title (wanted or not), best confidence per name."""
    best: dict[str, Mention] = {}
    for page in pages:
        blocks = page.blocks
        company = name_fold(page.title)
        parsed = [_block_mention(b.text) for b in blocks]
        for i, found in enumerate(parsed):
            # The company's own name (in the page title, or with a legal form) is nobody.
            if found is not None:
                folded = name_fold(" ".join(found[0]))
                if folded in company or folded.split()[-1] in LEGAL_FORMS:
                    parsed[i] = None
        titled = [False] * len(blocks)
        for i, block in enumerate(blocks):
            found = parsed[i]
            if found is None:
                continue
            words, rest, _ = found
            title = " ".join(s for s in rest if not re.search(r"\d{3}|@", s)).strip()
            confidence = CONF_SAME_BLOCK
            if not title and i + 1 < len(blocks):
                nxt = blocks[i + 1].text
                if nxt and (title_kind(nxt) or _other_title(nxt)) and len(nxt.split()) <= 6:
                    title, confidence = nxt, CONF_ADJACENT
            kind = title_kind(title) if title else None
            if title and kind is None and not _other_title(title):
                title = ""
            if not title:
                # A name alone is a person only inside a list of people: next to a block that
                # named someone with a title (or another such name).
                near = (i > 0 and (titled[i - 1] or _people_heading(blocks[i - 1].text))) or (
                    i + 1 < len(blocks) and parsed[i + 1] is not None and parsed[i + 1][1]
                )
                if rest or not near:
                    continue
                confidence = CONF_NAME_ONLY
            elif kind is None:
                confidence = CONF_OTHER_TITLE
            titled[i] = True
            if block.phones or block.emails:
                confidence += CONF_CONTACT_BONUS
            first, middle, last = _split_name(words)
            mention = Mention(
                name=" ".join(words),
                first=first,
                middle=middle,
                last=last,
                title=title,
                kind=kind,
                page=page.url,
                confidence=round(min(confidence, 0.95), 2),
                phones=block.phones,
                emails=block.emails,
            )
            key = name_fold(mention.name)
            if key not in best or best[key].confidence < mention.confidence:
                best[key] = mention
    return list(best.values())


def name_key(first: str, last: str) -> tuple[str, str]:
    """(first given name, last family name), folded: middle names and diacritics ignored."""
    firsts = name_fold(first).replace("-", " ").split()
    lasts = name_fold(last).replace("-", " ").split()
    return (firsts[0] if firsts else "", lasts[-1] if lasts else "")


def mention_matches(mention: Mention, *, first: str, last: str) -> bool:
    """The mention names this officer: first given name and last family name agree (folded);
    "Anna Maria Berg" is the registry's "Anna Berg", "Bjørn-Åge Sæther" is "Bjorn-Age Saether"."""
    officer = name_key(first, last)
    if not all(officer):
        return False
    words = name_fold(mention.name).replace("-", " ").split()
    if len(words) < 2:
        return False
    return (words[0], words[-1]) == officer


def officer_on_site(mentions: Sequence[Mention], *, first: str, last: str) -> Mention | None:
    """The best mention of this officer on the site, if any."""
    hits = [m for m in mentions if mention_matches(m, first=first, last=last)]
    return max(hits, key=lambda m: m.confidence) if hits else None


# --- the directory side -----------------------------------------------------------------------


def _erased_keys(keys: Sequence[str]) -> set[str]:
    """The keys among `keys` of people erased at their request: erasure (privacy) keeps the key on
    the global suppression list with kind 'person'. By app label, as the registry importers read
    it by table name: the directory does not import the apps that build on it."""
    from django.apps import apps

    if not keys:
        return set()
    suppression = apps.get_model("blocklists", "Suppression")
    return set(
        suppression.objects.filter(kind="person", identifier_hash__in=list(keys)).values_list(
            "identifier_hash", flat=True
        )
    )


def site_person_key(*, company_id: int, name: str) -> str:
    folded = " ".join(name_fold(name).split())
    return "web:" + hashlib.sha256(f"{company_id}|{folded}".encode()).hexdigest()[:40]


async def _company_site(finder: Any, facts: Any) -> SiteVisit | None:
    """The company's site as the search finds it: the registry's website or e-mail domain, else
    the first name-derived domain whose home page names the registry number. None: no site. A
    name-derived domain that could not be reached tonight (DNS failure, time-out, 5xx) makes the
    answer `unreachable` rather than "no site": an outage is not a fact about the company."""
    from enrichment.discovery import domain_normalize
    from enrichment.verification.discovery import domain_candidates

    for listed in (facts.website_domain, facts.email_domain):
        if listed and domain_normalize(listed):
            return await finder.discovery.site_visit(domain_normalize(listed))
    blind: SiteVisit | None = None
    for candidate in domain_candidates(name=facts.name, country=facts.country):
        visit = await finder.discovery.site_visit(candidate)
        if visit.state == "unreachable":
            blind = blind or visit
            continue
        home = visit.home
        if home is not None and home.names_registry_id(facts.registry_id):
            return visit
    return blind


def site_decision_makers_create(
    *,
    company_ids: Sequence[int],
    config=None,
    min_confidence: float | None = None,
    site_states: dict[int, str] | None = None,
) -> list[dict]:
    """For each company whose registry names no current CEO, chair or owner, the people its own
    site names with such a title (at or above `min_confidence`, default the setting
    LEADPILOT_SITE_PERSON_MIN_CONFIDENCE) become Person + Role rows: kind from the title,
    `kind_raw` the title as printed, `details` {"source": "website", "source_url", "confidence",
    "title"}. A person already recorded is updated, not duplicated (idempotent). The site is
    read as the nightly search reads it; an unreachable site changes nothing. Returns what was
    created or updated ({company_id, person_id, name, kind, source_url, confidence});
    `site_states`, if given, receives each company's site state (ok, no_site, unreachable)."""
    from django.conf import settings
    from django.db import transaction

    from enrichment.discovery import CompanyFacts, ContactFinder
    from enrichment.models import Company, Person, Role
    from enrichment.verification import VerificationConfig

    threshold = (
        min_confidence
        if min_confidence is not None
        else float(getattr(settings, "LEADPILOT_SITE_PERSON_MIN_CONFIDENCE", 0.7))
    )
    wanted = ("ceo", "chair", "owner")
    companies = list(
        Company.objects.filter(id__in=list(company_ids)).exclude(
            roles__is_current=True, roles__kind__in=wanted
        )
    )
    if not companies:
        return []
    config = config or VerificationConfig.from_settings()

    states: dict[int, str] = site_states if site_states is not None else {}

    async def read_all() -> list[tuple[Company, list[Mention]]]:
        finder = ContactFinder(config)
        try:

            async def one(company: Company) -> tuple[Company, list[Mention]]:
                facts = CompanyFacts(
                    id=company.id,
                    name=company.name,
                    country=company.country,
                    registry_id=company.registry_id,
                    website_domain=company.website_domain,
                    email_domain=company.email_domain,
                )
                visit = await _company_site(finder, facts)
                states[company.id] = visit.state if visit is not None else "no_site"
                return company, site_people(visit.pages) if visit is not None else []

            return list(await asyncio.gather(*(one(c) for c in companies)))
        finally:
            await finder.discovery.aclose()
            finder.verifier.close()

    found = asyncio.run(read_all())
    out: list[dict] = []
    erased = _erased_keys(
        [site_person_key(company_id=c.id, name=m.name) for c, mentions in found for m in mentions]
    )
    with transaction.atomic():
        for company, mentions in found:
            for m in mentions:
                if m.kind not in wanted or m.confidence < threshold:
                    continue
                if site_person_key(company_id=company.id, name=m.name) in erased:
                    continue  # erased at their request (privacy): never written back
                person, _ = Person.objects.update_or_create(
                    person_key=site_person_key(company_id=company.id, name=m.name),
                    defaults={
                        "full_name": m.name,
                        "first_name": m.first,
                        "middle_name": m.middle,
                        "last_name": m.last,
                        "country": company.country,
                    },
                )
                details = {
                    "source": "website",
                    "source_url": m.page,
                    "confidence": m.confidence,
                    "title": m.title,
                }
                Role.objects.update_or_create(
                    company=company,
                    person=person,
                    kind=m.kind,
                    defaults={"kind_raw": m.title[:100], "details": details, "is_current": True},
                )
                out.append(
                    {"company_id": company.id, "person_id": person.id, "name": m.name,
                     "kind": m.kind, "source_url": m.page, "confidence": m.confidence}
                )  # fmt: skip
    return out


def site_decision_makers_discover(
    *,
    limit: int = 500,
    countries: Sequence[str] = (),
    among: Any = None,
    config: Any = None,
) -> dict:
    """Up to `limit` active companies whose registry names no current CEO, chair or owner and
    whose site has not been read for them in LEADPILOT_SITE_PEOPLE_RECHECK_DAYS (the cache holds
    the mark, so every worker agrees), through `site_decision_makers_create`. Returns counts.

    Without `among` (the hourly task) only companies whose registry names a website or e-mail
    domain are read. `among` (a Company queryset: those matching a segment's criteria, for the
    nightly search) also takes companies whose registry names none (Bolagsverket's file names no
    websites): their site is the name-derived domain whose home page names the registry number,
    as the search finds it; companies with a registry domain come first. `config` is the
    engine's (default: the installation's settings).

    Idempotent; a site that could not be reached (DNS failure, time-out, 5xx: an outage is not
    a fact about the company) is not marked and is read again next time."""
    from django.conf import settings
    from django.core.cache import cache
    from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When

    from enrichment.models import Company, Role

    days = int(getattr(settings, "LEADPILOT_SITE_PEOPLE_RECHECK_DAYS", 30))
    wanted = Role.objects.filter(
        company_id=OuterRef("pk"), is_current=True, kind__in=("ceo", "chair", "owner")
    )
    listed = ~Q(website_domain="") | ~Q(email_domain="")
    if among is None:
        qs = Company.objects.filter(status="active").filter(listed).order_by("id")
    else:
        rank = Case(When(listed, then=Value(0)), default=Value(1), output_field=IntegerField())
        qs = among.filter(status="active").alias(site_rank=rank).order_by("site_rank", "id")
    qs = qs.filter(~Exists(wanted))
    if countries:
        qs = qs.filter(country__in=[c.upper() for c in countries])
    picked: list[int] = []
    block: list[int] = []

    def take(ids: list[int]) -> None:
        marked = cache.get_many([f"site-people:{c}" for c in ids])
        picked.extend(c for c in ids if f"site-people:{c}" not in marked)

    for company_id in qs.values_list("id", flat=True).iterator(chunk_size=2000):
        block.append(company_id)
        if len(block) >= 500:
            take(block)
            block = []
            if len(picked) >= limit:
                break
    if block and len(picked) < limit:
        take(block)
    picked = picked[:limit]
    states: dict[int, str] = {}
    created = (
        site_decision_makers_create(company_ids=picked, site_states=states, config=config)
        if picked
        else []
    )
    read = [c for c in picked if states.get(c) != "unreachable"]
    cache.set_many({f"site-people:{c}": 1 for c in read}, timeout=days * 86400)
    return {
        "companies": len(picked),
        "people": len(created),
        "unreachable": len(picked) - len(read),
    }
