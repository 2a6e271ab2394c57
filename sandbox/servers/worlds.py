"""Small world builders for tests, the demo and benches (the real generator is elsewhere).

`domain_entry` writes one manifest object (CONTRACTS.md A); `world_mix` builds a whole internet
with a given behaviour mix plus the ground truth of which addresses exist.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST = (
    "kari", "ola", "ingrid", "lars", "sofie", "magnus", "nora", "erik", "emma", "jonas", "sara",
    "henrik", "maja", "anders", "ida", "per", "liv", "tor", "hanna", "johan", "astrid", "nils",
    "elin", "oskar", "frida", "emil", "linnea", "mats", "tuva", "sindre",
)  # fmt: skip
LAST = (
    "nordmann", "hansen", "johansen", "olsen", "larsen", "andersen", "pedersen", "nilsen",
    "kristiansen", "jensen", "karlsen", "berg", "haugen", "hagen", "lund", "strand", "eriksson",
    "lindqvist", "svensson", "bakke", "moen", "solberg", "dahl", "holm", "lie", "aas",
)  # fmt: skip
WORDS = (
    "nordlys", "fjord", "bolge", "stein", "granitt", "vind", "havn", "skog", "elv", "lys",
    "kyst", "berg", "tind", "dal", "sno", "isbre", "furu", "bjork", "ravn", "ulv", "orn",
)  # fmt: skip
TRADES = ("logistikk", "bygg", "data", "konsult", "handel", "energi", "marine", "design")
TLDS = ("no", "com", "se", "co.uk")

PATTERN_FORMATS = {
    "first.last": "{f}.{l}",
    "firstlast": "{f}{l}",
    "f.last": "{fi}.{l}",
    "flast": "{fi}{l}",
    "first": "{f}",
    "last": "{l}",
    "first_last": "{f}_{l}",
}


def local_for(pattern: str, first: str, last: str) -> str:
    return PATTERN_FORMATS[pattern].format(f=first, l=last, fi=first[0])


def domain_entry(
    domain: str,
    *,
    behaviour: str | None = "normal",
    mailboxes: tuple[str, ...] | list[str] = (),
    full: tuple[str, ...] | list[str] = (),
    disabled: tuple[str, ...] | list[str] = (),
    mx: list | None = None,
    dns: str = "ok",
    a: list[str] | None = None,
    spf: str | None = None,
    greylist_seconds: float = 300,
    latency_ms: float = 0,
    pattern: str | None = "first.last",
    web: dict | None = None,
) -> dict:
    """One domains.jsonl object. `behaviour=None` means no mail server at all."""
    if mx is None:
        mx = [[10, f"mx1.{domain}"], [20, f"mx2.{domain}"]] if behaviour else []
    return {
        "domain": domain,
        "dns": dns,
        "mx": mx,
        "a": list(a) if a is not None else ["127.0.0.1"],
        "spf": spf,
        "mail": None
        if behaviour is None
        else {
            "behaviour": behaviour,
            "mailboxes": list(mailboxes),
            "full": list(full),
            "disabled": list(disabled),
            "greylist_seconds": greylist_seconds,
            "latency_ms": latency_ms,
        },
        "pattern": pattern,
        "web": web,
    }


# kind -> share of domains. DNS-level kinds have no working mail server.
DEFAULT_MIX = {
    "normal": 0.46,
    "catch_all": 0.10,
    "greylist": 0.07,
    "tarpit": 0.02,
    "disconnect": 0.03,
    "second_rcpt_reject": 0.05,
    "blacklist": 0.02,
    "yahoo_like": 0.05,
    "dbeb": 0.05,
    "a_fallback": 0.03,  # NODATA for MX, mail on the domain's A record
    "null_mx": 0.02,
    "nxdomain": 0.02,
    "servfail": 0.02,
    "dns_timeout": 0.01,
}


@dataclass(frozen=True)
class Probe:
    address: str
    exists: bool  # ground truth: the mailbox exists and takes mail
    kind: str  # the domain's kind in the mix
    mailbox: str  # "exists" | "absent" | "full" | "disabled"


def world_mix(
    *,
    seed: int = 7,
    domains: int = 200,
    addresses: int = 10_000,
    mix: dict[str, float] | None = None,
    greylist_seconds: float = 300,
) -> tuple[list[dict], list[Probe]]:
    rng = random.Random(seed)
    mix = mix or DEFAULT_MIX
    kinds: list[str] = []
    for kind, share in mix.items():
        kinds += [kind] * max(1, round(share * domains))
    kinds = (kinds + ["normal"] * domains)[:domains]
    rng.shuffle(kinds)
    per_domain = max(1, addresses // domains)
    entries: list[dict] = []
    probes: list[Probe] = []
    used: set[str] = set()
    for i, kind in enumerate(kinds):
        while True:
            name = f"{rng.choice(WORDS)}-{rng.choice(TRADES)}{i}.{rng.choice(TLDS)}"
            if name not in used:
                used.add(name)
                break
        pattern = rng.choice(list(PATTERN_FORMATS))
        people = {(rng.choice(FIRST), rng.choice(LAST)) for _ in range(per_domain)}
        people_l = sorted(people)
        existing = [local_for(pattern, f, la) for f, la in people_l[: len(people_l) * 2 // 3]]
        existing = list(dict.fromkeys(existing))
        full = existing[:1] if kind in ("normal", "dbeb") else []
        disabled = existing[1:2] if kind == "normal" else []
        mailboxes = [m for m in existing if m not in full and m not in disabled]
        behaviour = kind
        mx = None
        dns = "ok"
        if kind == "second_rcpt_reject" or kind == "dbeb":
            mx = [[0, f"{name.replace('.', '-')}.mail.protection.outlook.com"]]
        elif kind == "yahoo_like":
            mx = [[1, "mta5.am0.yahoodns.net"], [1, "mta6.am0.yahoodns.net"]]
        elif kind == "a_fallback":
            behaviour, mx = "normal", []
        elif kind == "null_mx":
            behaviour, mx = None, [[0, "."]]
        elif kind in ("nxdomain", "servfail"):
            behaviour, dns = None, kind
        elif kind == "dns_timeout":
            behaviour, dns = None, "timeout"
        entry = domain_entry(
            name,
            behaviour=behaviour,
            mailboxes=mailboxes,
            full=full,
            disabled=disabled,
            mx=mx,
            dns=dns,
            pattern=pattern,
            greylist_seconds=greylist_seconds,
        )
        entries.append(entry)
        takes_mail = behaviour is not None and dns == "ok"
        # Addresses to verify: the existing mailboxes, then wrong-pattern guesses and strangers.
        locals_: list[tuple[str, str]] = [(m, "exists") for m in mailboxes]
        locals_ += [(m, "full") for m in full] + [(m, "disabled") for m in disabled]
        others = [p for p in PATTERN_FORMATS if p != pattern]
        while len(locals_) < per_domain:
            f, la = rng.choice(FIRST), rng.choice(LAST)
            local = local_for(rng.choice(others), f, la) + str(rng.randint(1, 99))
            locals_.append((local, "absent"))
        for local, state in locals_[:per_domain]:
            probes.append(
                Probe(
                    address=f"{local}@{name}",
                    exists=takes_mail and state in ("exists", "full"),
                    kind=kind,
                    mailbox=state if takes_mail else "absent",
                )
            )
    rng.shuffle(probes)
    return entries, probes
