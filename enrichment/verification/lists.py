"""Address lists that need no network: disposable domains, role accounts, free providers.

The role list is our own: RFC 2142 mailbox names plus common business functions in the languages
of our markets (no, sv, da, fi, de, en). Reacher's roles.txt is AGPL and is not used.
"""

from __future__ import annotations

from functools import lru_cache

RFC2142_ROLES = {
    "info", "marketing", "sales", "support", "abuse", "noc", "security", "postmaster",
    "hostmaster", "usenet", "news", "webmaster", "www", "uucp", "ftp",
}  # fmt: skip

BUSINESS_ROLES = {
    "admin", "administrator", "office", "contact", "contacts", "hello", "hi", "team", "mail",
    "email", "enquiries", "enquiry", "inquiries", "inquiry", "help", "helpdesk", "service",
    "services", "customerservice", "customer.service", "kundeservice", "kundservice",
    "asiakaspalvelu", "kundendienst", "billing", "invoice", "invoices", "faktura", "fakturor",
    "fakturaer", "lasku", "laskut", "rechnung", "accounts", "accounting", "finance", "okonomi",
    "ekonomi", "regnskap", "hr", "jobs", "job", "careers", "career", "jobb", "rekruttering",
    "recruitment", "press", "media", "pr", "legal", "compliance", "privacy", "gdpr", "dpo",
    "it", "dev", "devnull", "noreply", "no-reply", "donotreply", "do-not-reply", "bounce",
    "bounces", "mailer-daemon", "root", "post", "postmottak", "firmapost", "epost", "kontakt",
    "kontor", "bestilling", "order", "orders", "booking", "bookings", "reception", "resepsjon",
    "receptionen", "vaihde", "zentrale", "verkauf", "vertrieb", "salg", "forsaljning",
    "myynti", "info.no", "newsletter", "nyhetsbrev", "subscribe", "unsubscribe", "feedback",
    "partners", "partner", "purchasing", "innkjop", "inkop", "procurement", "shop", "store",
    "butikk", "webshop", "events", "training", "kurs", "ops", "operations", "logistics",
    "lager", "warehouse", "drift", "all", "everyone", "staff", "ansatte", "board", "styret",
    "styrelsen", "investor", "investors", "ir", "general", "welcome", "social", "marketing.no",
}  # fmt: skip

ROLE_LOCAL_PARTS = frozenset(RFC2142_ROLES | BUSINESS_ROLES)

FREE_PROVIDER_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
        "yahoo.se", "yahoo.no", "ymail.com", "rocketmail.com", "hotmail.com", "hotmail.co.uk",
        "hotmail.fr", "hotmail.nl", "hotmail.de", "hotmail.no", "hotmail.se", "hotmail.dk",
        "outlook.com", "outlook.fr", "outlook.de", "live.com", "live.co.uk", "live.no", "live.se",
        "live.dk", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "mail.ru",
        "yandex.ru", "yandex.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "t-online.de",
        "protonmail.com", "proton.me", "pm.me", "zoho.com", "tutanota.com", "fastmail.com",
        "online.no", "start.no", "frisurf.no", "telia.com", "spray.se", "bredband.net",
        "jubii.dk", "mail.dk", "suomi24.fi", "btinternet.com", "sky.com", "virginmedia.com",
        "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "libero.it", "qq.com", "163.com",
    }
)  # fmt: skip

# Consumer mailbox providers whose SMTP answers prove nothing about one mailbox (they accept
# every RCPT or answer the same for existing and missing users).
CONSUMER_UNVERIFIABLE_DOMAINS = frozenset(
    {
        "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "yahoo.se", "yahoo.no", "ymail.com",
        "rocketmail.com", "aol.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.nl",
        "hotmail.de", "hotmail.no", "hotmail.se", "hotmail.dk", "outlook.com", "outlook.fr",
        "outlook.de", "live.com", "live.co.uk", "live.no", "live.se", "live.dk", "msn.com",
        "mail.ru",
    }
)  # fmt: skip


@lru_cache(maxsize=1)
def _disposable_set() -> frozenset[str]:
    from disposable_email_domains import blocklist

    return frozenset(d.lower() for d in blocklist)


def domain_suffixes(domain: str) -> list[str]:
    """'a.b.yyy.zzz' -> ['a.b.yyy.zzz', 'b.yyy.zzz', 'yyy.zzz', 'zzz']."""
    labels = domain.lower().rstrip(".").split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def is_disposable(domain: str) -> bool:
    """True if the domain or any parent domain is on the disposable list (entries vary in depth)."""
    blocked = _disposable_set()
    return any(s in blocked for s in domain_suffixes(domain))


def is_role_account(local_part: str) -> bool:
    local = local_part.lower().split("+", 1)[0]
    return local in ROLE_LOCAL_PARTS


def is_free_provider(domain: str) -> bool:
    return domain.lower() in FREE_PROVIDER_DOMAINS
