"""The segment editor's pickers: what a customer can pick for countries, industries, regions and
municipalities, with a label in words and the code the criteria store.

Selectors only (reads). Countries are ISO codes named in the visitor's language (the names come
with phonenumbers' locale data); industries are NACE Rev. 2 codes at every level with their
labels; regions and municipalities are the values the directory holds, each named by what a
person reads: Norway's registry gives a region as the municipality number (``0301``), shown as
its municipality's name ("Oslo"), while the UK's county and the Nordic post towns are names
already. The directory's places are read once per PLACES_CACHE_SECONDS (one GROUP BY over the
companies; the list changes only with an import).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.core.cache import cache as django_cache
from django.db.models import Min
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from phonenumbers.geodata.locale import LOCALE_DATA

from enrichment import nace as directory_nace
from enrichment.models import Company

from . import nace

PICKER_FIELDS = ("countries", "industries", "regions", "municipalities")
PICKER_LIMIT = 30
PLACES_CACHE_SECONDS = 600
# The countries whose registers the importers read come first in the list.
REGISTER_COUNTRIES = ("GB", "NO", "SE", "DK", "FI")


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str

    def as_dict(self) -> dict[str, str]:
        return {"value": self.value, "label": self.label}


def _country_name(code: str, language: str) -> str:
    names = LOCALE_DATA.get(code) or {}
    lang = language.split("-")[0].lower()
    name = names.get(lang) or names.get("aa") or code
    for _hop in range(3):  # "*nb": the same as another language's name
        if not name.startswith("*"):
            break
        name = names.get(name[1:], code)
    return name if not name.startswith("*") else code


def _countries() -> list[Option]:
    from .criteria import _COUNTRIES

    language = get_language() or "en"
    rest = sorted(
        (c for c in _COUNTRIES if c not in REGISTER_COUNTRIES),
        key=lambda c: _country_name(c, language),
    )
    return [
        Option(code, f"{_country_name(code, language)} ({code})")
        for code in (*REGISTER_COUNTRIES, *rest)
    ]


def _class_text(nace_class: int) -> str:
    """Every UK SIC 2007 subclass label under a class (they share its first four digits): the
    words a customer searches for ("software" finds 62.01)."""
    prefix = f"{nace_class:04d}"
    labels = directory_nace.uk_sic_labels()
    return "; ".join(dict.fromkeys(labels[c] for c in sorted(labels) if c.startswith(prefix)))


def _shorten(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


@cache
def _industries_of_language(language: str) -> tuple[Option, ...]:
    """Sections, divisions, groups and classes in code order, each named by its level and the
    activities under it."""
    out: list[Option] = []
    classes = nace.classes()
    for letter in sorted({directory_nace.nace_section(c) or "" for c in classes} - {""}):
        section_label = directory_nace.nace_section_label(letter)
        out.append(
            Option(
                letter, _("Section %(code)s: %(label)s") % {"code": letter, "label": section_label}
            )
        )
        in_section = [c for c in classes if directory_nace.nace_section(c) == letter]
        for division in sorted({c // 100 for c in in_section}):
            members = [c for c in in_section if c // 100 == division]
            code = f"{division:02d}"
            text = _shorten("; ".join(_class_text(c) for c in members))
            out.append(
                Option(code, _("Division %(code)s: %(label)s") % {"code": code, "label": text})
            )
            for group in sorted({c // 10 for c in members}):
                in_group = [c for c in members if c // 10 == group]
                if len(in_group) > 1:
                    code = f"{group // 10:02d}.{group % 10}"
                    text = _shorten("; ".join(_class_text(c) for c in in_group))
                    label = _("Group %(code)s: %(label)s") % {"code": code, "label": text}
                    out.append(Option(code, label))
                for cls in in_group:
                    code = f"{cls // 100:02d}.{cls % 100:02d}"
                    text = _class_text(cls)
                    out.append(
                        Option(code, _("Class %(code)s: %(label)s") % {"code": code, "label": text})
                    )
    return tuple(out)


def _industries() -> tuple[Option, ...]:
    return _industries_of_language(get_language() or "en")


def _title(name: str) -> str:
    """Registry names come in capitals (OSLO, BÆRUM): shown as a person writes them."""
    return name.title() if name.isupper() else name


def _places(field: str) -> list[Option]:
    key = f"segments:pickers:{field}"
    cached = django_cache.get(key)
    if cached is not None:
        return [Option(*pair) for pair in cached]
    options: list[Option] = []
    if field == "regions":
        rows = (
            Company.objects.exclude(region="")
            .values("country", "region")
            .annotate(name=Min("municipality"))
            .order_by("country", "region")
        )
        for row in rows:
            region, name, country = row["region"], row["name"] or "", row["country"]
            if region.isdigit() and name:
                label = f"{_title(name)} ({country} {region})"
            else:
                label = f"{_title(region)} ({country})"
            options.append(Option(region, label))
    else:
        rows = (
            Company.objects.exclude(municipality="")
            .values("country", "municipality")
            .distinct()
            .order_by("country", "municipality")
        )
        options = [
            Option(row["municipality"], f"{_title(row['municipality'])} ({row['country']})")
            for row in rows
        ]
    options.sort(key=lambda o: o.label.casefold())
    django_cache.set(key, [(o.value, o.label) for o in options], PLACES_CACHE_SECONDS)
    return options


def picker_options(*, field: str) -> list[Option]:
    """Every option of a picker field (countries, industries, regions, municipalities)."""
    if field == "countries":
        return _countries()
    if field == "industries":
        return list(_industries())
    if field in ("regions", "municipalities"):
        return _places(field)
    raise ValueError(_("No picker for %(field)s.") % {"field": field})


def picker_search(*, field: str, query: str, limit: int = PICKER_LIMIT) -> list[Option]:
    """The options whose label or code contains the query (case-insensitive): those that start
    with it first, then the rest in list order; at most `limit`."""
    needle = query.strip().casefold()
    options = picker_options(field=field)
    if not needle:
        return options[:limit]
    starts: list[Option] = []
    contains: list[Option] = []
    for option in options:
        label, value = option.label.casefold(), option.value.casefold()
        if label.startswith(needle) or value.startswith(needle):
            starts.append(option)
        elif needle in label:
            contains.append(option)
        if len(starts) >= limit:
            break
    return (starts + contains)[:limit]


def picker_labels(*, field: str, values: list[str]) -> list[Option]:
    """The options for values already picked (a saved segment), in the given order; a value the
    list does not know keeps its code as its label."""
    known = {o.value: o for o in picker_options(field=field)}
    return [known.get(v) or Option(v, v) for v in values]
