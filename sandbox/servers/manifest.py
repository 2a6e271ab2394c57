"""The sandbox world's internet manifest (CONTRACTS.md A): DIR/internet/domains.jsonl.

Parsing is strict: a bad line fails with the line number and the field, never half-loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

DNS_MODES = ("ok", "nxdomain", "servfail", "timeout")
MAIL_BEHAVIOURS = (
    "normal", "catch_all", "greylist", "tarpit", "disconnect", "second_rcpt_reject",
    "blacklist", "yahoo_like", "dbeb",
)  # fmt: skip
PATTERNS = ("first.last", "firstlast", "f.last", "flast", "first", "last", "first_last")
SPECIAL_USE_TLDS = ("test", "local", "localhost", "invalid", "onion", "arpa")


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class MailSpec:
    behaviour: str = "normal"
    mailboxes: frozenset[str] = frozenset()
    full: frozenset[str] = frozenset()
    disabled: frozenset[str] = frozenset()
    greylist_seconds: float = 300.0
    latency_ms: float = 0.0


@dataclass(frozen=True)
class WebPerson:
    """Someone the company's site names ("Kari Nordmann, Daglig leder, +47 912 34 567")."""

    name: str
    title: str = ""
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class WebPageSpec:
    """A page of the site besides the home page (linked from it with `title` as the link text):
    a team/contact/about page naming people. `slow_seconds` makes it answer that late (a page
    that times out), `huge_bytes` pads it past the crawler's size limit."""

    path: str
    title: str
    lang: str = "en"
    people: tuple[WebPerson, ...] = ()
    slow_seconds: float = 0.0
    huge_bytes: int = 0


@dataclass(frozen=True)
class WebSpec:
    company_name: str
    country: str | None = None
    registry_id: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    people: tuple[WebPerson, ...] = ()
    https: bool = False  # served over HTTPS; plain HTTP redirects there
    www: bool = False  # the site lives on www.<domain>; the bare name redirects there
    robots_disallow: tuple[str, ...] = ()  # paths robots.txt disallows for every agent
    pages: tuple[WebPageSpec, ...] = ()

    def page_readable(self, page: WebPageSpec) -> bool:
        """A crawler that honours robots.txt and the size and time limits reads this page."""
        if any(page.path.startswith(p) for p in self.robots_disallow):
            return False
        return not (page.slow_seconds or page.huge_bytes)

    def findable_people(self) -> dict[str, str]:
        """Ground truth: who a polite crawler finds named on this site -> the page's path."""
        found = {p.name: "/" for p in self.people}
        for page in self.pages:
            if self.page_readable(page):
                for p in page.people:
                    found.setdefault(p.name, page.path)
        return found


def _web_people(value, where: str) -> tuple[WebPerson, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(p, Mapping) and isinstance(p.get("name"), str) for p in value
    ):
        raise ManifestError(f"{where}: field 'web.people' must be a list of {{name, title, phone}}")
    return tuple(
        WebPerson(
            name=p["name"],
            title=str(p.get("title") or ""),
            phone=p.get("phone") or None,
            email=p.get("email") or None,
        )
        for p in value
    )


def _web_pages(value, where: str) -> tuple[WebPageSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(p, Mapping) and isinstance(p.get("path"), str) and p["path"].startswith("/")
        for p in value
    ):
        raise ManifestError(f"{where}: field 'web.pages' must be a list of {{path, title, ...}}")
    try:
        return tuple(
            WebPageSpec(
                path=p["path"],
                title=str(p.get("title") or p["path"]),
                lang=str(p.get("lang") or "en"),
                people=_web_people(p.get("people"), where),
                slow_seconds=float(p.get("slow_seconds") or 0),
                huge_bytes=int(p.get("huge_bytes") or 0),
            )
            for p in value
        )
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{where}: web.pages slow_seconds/huge_bytes must be numbers") from exc


@dataclass(frozen=True)
class DomainSpec:
    domain: str
    dns: str = "ok"
    mx: tuple[tuple[int, str], ...] = ()
    a: tuple[str, ...] = ()
    spf: str | None = None
    mail: MailSpec | None = None
    pattern: str | None = None
    web: WebSpec | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def null_mx(self) -> bool:
        return len(self.mx) == 1 and self.mx[0][1].strip(".") == ""


def _strs(value, where: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ManifestError(f"{where}: expected a list of strings")
    return frozenset(x.lower() for x in value)


def domain_spec_parse(obj: Mapping, *, where: str = "domain") -> DomainSpec:
    if not isinstance(obj, Mapping):
        raise ManifestError(f"{where}: expected a JSON object")
    name = obj.get("domain")
    if not isinstance(name, str) or "." not in name or name != name.lower():
        raise ManifestError(f"{where}: field 'domain' must be a lowercase dotted name")
    where = f"{where} ({name})"
    if name.rsplit(".", 1)[1] in SPECIAL_USE_TLDS:
        raise ManifestError(f"{where}: field 'domain' uses a special-use TLD")
    dns_mode = obj.get("dns", "ok")
    if dns_mode not in DNS_MODES:
        raise ManifestError(f"{where}: field 'dns' must be one of {', '.join(DNS_MODES)}")
    mx_raw = obj.get("mx") or []
    try:
        mx = tuple((int(p), str(h).lower()) for p, h in mx_raw)
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{where}: field 'mx' must be [[preference, host], ...]") from exc
    a = obj.get("a") or []
    if not isinstance(a, list) or not all(isinstance(x, str) for x in a):
        raise ManifestError(f"{where}: field 'a' must be a list of IPv4 strings")
    mail = None
    mail_raw = obj.get("mail")
    if mail_raw is not None:
        if not isinstance(mail_raw, Mapping):
            raise ManifestError(f"{where}: field 'mail' must be an object or null")
        behaviour = mail_raw.get("behaviour", "normal")
        if behaviour not in MAIL_BEHAVIOURS:
            raise ManifestError(
                f"{where}: field 'mail.behaviour' must be one of {', '.join(MAIL_BEHAVIOURS)}"
            )
        try:
            greylist_seconds = float(mail_raw.get("greylist_seconds", 300) or 0)
            latency_ms = float(mail_raw.get("latency_ms", 0) or 0)
        except (TypeError, ValueError) as exc:
            raise ManifestError(
                f"{where}: mail.greylist_seconds/latency_ms must be numbers"
            ) from exc
        mail = MailSpec(
            behaviour=behaviour,
            mailboxes=_strs(mail_raw.get("mailboxes"), f"{where}: field 'mail.mailboxes'"),
            full=_strs(mail_raw.get("full"), f"{where}: field 'mail.full'"),
            disabled=_strs(mail_raw.get("disabled"), f"{where}: field 'mail.disabled'"),
            greylist_seconds=greylist_seconds,
            latency_ms=latency_ms,
        )
    pattern = obj.get("pattern")
    if pattern is not None and pattern not in PATTERNS:
        raise ManifestError(f"{where}: field 'pattern' must be one of {', '.join(PATTERNS)}")
    web = None
    web_raw = obj.get("web")
    if web_raw is not None:
        if not isinstance(web_raw, Mapping) or not isinstance(web_raw.get("company_name"), str):
            raise ManifestError(f"{where}: field 'web.company_name' is required")
        web = WebSpec(
            company_name=web_raw["company_name"],
            country=web_raw.get("country"),
            registry_id=str(web_raw["registry_id"]) if web_raw.get("registry_id") else None,
            emails=tuple(web_raw.get("emails") or ()),
            phones=tuple(web_raw.get("phones") or ()),
            people=_web_people(web_raw.get("people"), where),
            https=bool(web_raw.get("https")),
            www=bool(web_raw.get("www")),
            robots_disallow=tuple(_strs(web_raw.get("robots_disallow"), f"{where}: robots")),
            pages=_web_pages(web_raw.get("pages"), where),
        )
    known = {"domain", "dns", "mx", "a", "spf", "mail", "pattern", "web"}
    return DomainSpec(
        domain=name,
        dns=dns_mode,
        mx=mx,
        a=tuple(a),
        spf=obj.get("spf"),
        mail=mail,
        pattern=pattern,
        web=web,
        extra={k: v for k, v in obj.items() if k not in known},
    )


def domains_parse(objs: Iterable[Mapping | DomainSpec]) -> dict[str, DomainSpec]:
    out: dict[str, DomainSpec] = {}
    for i, obj in enumerate(objs, start=1):
        spec = obj if isinstance(obj, DomainSpec) else domain_spec_parse(obj, where=f"item {i}")
        if spec.domain in out:
            raise ManifestError(f"item {i}: duplicate domain {spec.domain!r}")
        out[spec.domain] = spec
    return out


def domains_load(path: str | Path) -> dict[str, DomainSpec]:
    """Load DIR/internet/domains.jsonl (or a direct path to a .jsonl file), line by line."""
    path = Path(path)
    if path.is_dir():
        path = path / "internet" / "domains.jsonl"
    if not path.exists():
        raise ManifestError(f"{path}: no such file")
    out: dict[str, DomainSpec] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ManifestError(f"{path}:{lineno}: not JSON ({exc.msg})") from exc
            spec = domain_spec_parse(obj, where=f"{path}:{lineno}")
            if spec.domain in out:
                raise ManifestError(f"{path}:{lineno}: duplicate domain {spec.domain!r}")
            out[spec.domain] = spec
    return out


def domains_write(path: str | Path, domains: Iterable[Mapping]) -> Path:
    """Write a domains.jsonl (tests/benches build their own worlds with this)."""
    path = Path(path)
    if path.suffix != ".jsonl":
        path = path / "internet" / "domains.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for obj in domains:
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return path
