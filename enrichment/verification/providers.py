"""Per-provider rules, keyed on the MX host suffix (or, for consumer mail, the domain)."""

from __future__ import annotations

from dataclasses import dataclass

from enrichment.verification.lists import CONSUMER_UNVERIFIABLE_DOMAINS


@dataclass(frozen=True)
class ProviderRule:
    name: str
    mx_suffixes: tuple[str, ...] = ()
    smtp_verifiable: bool = True  # False: SMTP accepts/denies regardless of the mailbox
    catch_all_probe: bool = True  # False: known not to be catch-all, skip the random RCPT
    # Connections per MX host name; None = the config's per_mx_concurrency. Big clusters that
    # serve thousands of domains behind one name (Google) take more than a lone server.
    sessions_per_mx: int | None = None
    reuse_connections: bool = True  # RSET + next probe on the same connection


# Order matters: the first matching suffix wins (olc.protection.outlook.com before the rest).
PROVIDER_RULES: tuple[ProviderRule, ...] = (
    ProviderRule("yahoo", (".yahoodns.net",), smtp_verifiable=False),
    ProviderRule("outlook_consumer", (".olc.protection.outlook.com",), smtp_verifiable=False),
    ProviderRule(
        "microsoft365",
        (".protection.outlook.com",),
        sessions_per_mx=1,
        reuse_connections=False,  # "namespace mining" defences count transactions per session
    ),
    ProviderRule("google", (".google.com", ".googlemail.com"), sessions_per_mx=6),
    ProviderRule("proofpoint", (".pphosted.com", ".ppe-hosted.com")),
    ProviderRule("mimecast", (".mimecast.com",)),
)
GENERIC = ProviderRule("generic")
CONSUMER_GMAIL = ProviderRule("gmail", catch_all_probe=False, sessions_per_mx=6)
CONSUMER_UNVERIFIABLE = ProviderRule("consumer_unverifiable", smtp_verifiable=False)


def provider_for(domain: str, mx_hosts: list[str]) -> ProviderRule:
    domain = domain.lower()
    if domain in ("gmail.com", "googlemail.com"):
        return CONSUMER_GMAIL
    if domain in CONSUMER_UNVERIFIABLE_DOMAINS:
        return CONSUMER_UNVERIFIABLE
    for host in mx_hosts:
        dotted = "." + host.lower().rstrip(".")
        for rule in PROVIDER_RULES:
            if dotted.endswith(rule.mx_suffixes):
                return rule
    return GENERIC
