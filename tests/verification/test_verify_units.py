"""Network-free parts: reply classification, lists, syntax, phone, candidates."""

import pytest

from enrichment.verification.candidates import email_candidates, name_fold, pattern_infer
from enrichment.verification.classify import reply_classify
from enrichment.verification.lists import is_disposable, is_free_provider, is_role_account
from enrichment.verification.phone import phone_verify
from enrichment.verification.providers import provider_for
from enrichment.verification.syntax import AddressSyntaxError, address_dedupe_key, address_parse

# Golden replies as real servers send them (multi-line joined the way aiosmtplib joins them).
GOLDEN = [
    (250, "2.1.5 OK", "accepted"),
    (
        550,
        "5.1.1 The email account that you tried to reach does not exist. Please try\n"
        "5.1.1 double-checking the recipient's email address for typos or\n"
        "5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si - gsmtp",
        "not_found",
    ),
    (
        550,
        "5.1.1 <a@x.no>: Recipient address rejected: User unknown in virtual mailbox table",
        "not_found",
    ),
    (
        550,
        "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        "not_found",
    ),
    (
        550,
        "5.4.1 Recipient address rejected: Access denied. AS(201806281) "
        "[DB8EUR05FT012.eop-eur05.prod.protection.outlook.com]",
        "not_found",
    ),
    (550, "5.2.1 The email account that you tried to reach is disabled.", "disabled"),
    (452, "4.2.2 The email account that you tried to reach is over quota", "full"),
    (450, "4.2.0 <a@x>: Recipient address rejected: Greylisted, see http://postgrey", "greylisted"),
    (451, "4.7.1 Please try again later (greylisted)", "greylisted"),
    (451, "4.4.4 Temporary server error. Please try again later", "greylisted"),
    (452, "4.5.3 Too many recipients", "greylisted"),
    (421, "4.7.0 Too many concurrent SMTP connections from this IP", "blocked"),
    (
        554,
        "5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        "blocked",
    ),
    (550, "5.7.606 Access denied, banned sending IP [192.0.2.1]", "blocked"),
    (550, "Cannot find your reverse hostname", "blocked"),
    (550, "No such user here", "not_found"),
    (550, "Utilisateur inconnu", "not_found"),
    (552, "Mailbox full", "full"),
    (554, "5.7.1 Relay access denied", "rejected_other"),
]


@pytest.mark.parametrize(("code", "message", "kind"), GOLDEN)
def test_reply_classification(code, message, kind):
    assert reply_classify(code, message).kind == kind


def test_no_4xx_reply_is_ever_classified_as_a_mailbox_verdict():
    for code, message, _ in GOLDEN:
        if 400 <= code < 500:
            assert reply_classify(code, message).kind not in ("accepted", "not_found", "disabled")


def test_disposable_domains_match_on_every_suffix():
    assert is_disposable("mailinator.com")
    assert is_disposable("a.b.mailinator.com")
    assert is_disposable("x.0-mailer.dynv6.net") or is_disposable("0-mailer.dynv6.net")
    assert not is_disposable("nordlys-logistikk.no")
    assert not is_disposable("com")


def test_role_and_free_provider_lists():
    assert is_role_account("info") and is_role_account("Post+tag") and is_role_account("postmaster")
    assert not is_role_account("kari.nordmann")
    assert is_free_provider("gmail.com") and not is_free_provider("nordlys.no")


def test_syntax_normalises_and_rejects():
    parsed = address_parse("  Kari.Nordmann@Nordlys-Logistikk.NO ")
    assert parsed.normalized == "kari.nordmann@nordlys-logistikk.no"
    assert parsed.domain == "nordlys-logistikk.no"
    assert address_parse("ola@bjørn.no").domain == "xn--bjrn-hra.no"  # DNS asks the A-label
    for bad in ("no-at-sign", "a@b", "a@@b.no", "a b@c.no", "x@localhost"):
        with pytest.raises(AddressSyntaxError):
            address_parse(bad)


def test_gmail_dedupe_key_only_for_gmail():
    assert address_dedupe_key("k.a.r.i+news@gmail.com") == "kari@gmail.com"
    assert address_dedupe_key("k.ari+x@googlemail.com") == "kari@gmail.com"
    assert address_dedupe_key("k.ari+x@nordlys.no") == "k.ari+x@nordlys.no"


def test_provider_rules_key_on_mx_suffix():
    assert provider_for("x.no", ["mta5.am0.yahoodns.net"]).smtp_verifiable is False
    assert provider_for("x.no", ["x-no.olc.protection.outlook.com"]).name == "outlook_consumer"
    assert provider_for("x.no", ["x-no.mail.protection.outlook.com"]).name == "microsoft365"
    assert provider_for("x.no", ["aspmx.l.google.com"]).name == "google"
    assert provider_for("gmail.com", ["gmail-smtp-in.l.google.com"]).catch_all_probe is False
    assert provider_for("hotmail.com", ["x.olc.protection.outlook.com"]).smtp_verifiable is False
    assert provider_for("x.no", ["mx1.x.no"]).name == "generic"


@pytest.mark.parametrize(
    ("raw", "country", "e164", "line_type", "region", "ext"),
    [
        ("+47 22 33 44 55", None, "+4722334455", "fixed_line", "NO", None),
        ("412 34 567", "NO", "+4741234567", "mobile", "NO", None),
        ("07400 123456", "GB", "+447400123456", "mobile", "GB", None),
        ("+44 20 7946 0958 ext. 123", None, "+442079460958", "fixed_line", "GB", "123"),
        ("(650) 253-0000", "US", "+16502530000", "fixed_line_or_mobile", "US", None),
        # Fictional 555-01xx numbers are "valid": validity is not liveness.
        ("+1 416-555-0199", None, "+14165550199", "fixed_line_or_mobile", "CA", None),
    ],
)
def test_phone_verify(raw, country, e164, line_type, region, ext):
    v = phone_verify(raw, country=country)
    if e164 is None:
        assert v.status == "invalid"
        return
    assert (v.status, v.e164, v.line_type, v.region, v.extension) == (
        "valid",
        e164,
        line_type,
        region,
        ext,
    )
    # In the numbering plan says nothing about whose line it is: no source attributed it.
    assert v.is_chargeable is False
    mine = phone_verify(raw, country=country, attribution="person", attribution_source="u")
    assert mine.is_chargeable is True


def test_phone_invalid_and_unparseable():
    assert phone_verify("22 33 44 55", country=None).reason == "syntax"  # no region, no +
    assert phone_verify("hello", country="NO").reason == "syntax"
    v = phone_verify("07700 900123", country="GB")  # UK drama range is not assigned
    assert (v.status, v.reason, v.is_chargeable) == ("invalid", "invalid_number", False)


def test_candidates_follow_the_learned_pattern_or_all_patterns():
    assert email_candidates(first="Bjørn-Åge", last="Sæther", domain="x.no", pattern="f.last") == [
        "b.saether@x.no"
    ]
    every = email_candidates(first="Kari Anne", last="van der Berg", domain="x.no")
    assert every[:3] == ["kari.vanderberg@x.no", "karivanderberg@x.no", "k.vanderberg@x.no"]
    assert len(every) == len(set(every)) == 7
    assert name_fold("Ødegård-Müller") == "odegard-muller"


def test_pattern_inference():
    assert pattern_infer(first="Kari", last="Nordmann", local_part="knordmann") == "flast"
    assert pattern_infer(first="Kari", last="Nordmann", local_part="kari_nordmann") == "first_last"
    assert pattern_infer(first="Kari", last="Nordmann", local_part="post") is None


def test_config_from_settings_reads_the_leadpilot_settings(settings):
    from enrichment.verification import VerificationConfig

    settings.LEADPILOT_DNS_NAMESERVER = "127.0.0.1:5353"
    settings.LEADPILOT_SMTP_PORT = 2525
    settings.LEADPILOT_HTTP_PORT = 8081
    settings.LEADPILOT_EHLO_NAME = "mx-out.leadpilot.no"
    settings.LEADPILOT_MAIL_FROM = "bounce@leadpilot.no"
    config = VerificationConfig.from_settings()
    assert (config.nameserver, config.smtp_port, config.http_port) == (
        ("127.0.0.1", 5353),
        2525,
        8081,
    )
    assert (config.ehlo_name, config.mail_from) == ("mx-out.leadpilot.no", "bounce@leadpilot.no")
    assert config.allow_private_addresses
    settings.LEADPILOT_DNS_NAMESERVER = ""
    assert VerificationConfig.from_settings().allow_private_addresses is False
