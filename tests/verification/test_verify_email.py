"""Every status and reason, against real DNS and SMTP peers on loopback."""

import asyncio

import pytest

from enrichment.verification import Timeouts
from sandbox.servers.worlds import domain_entry

BOXES = ["kari.nordmann", "post", "ola.hansen"]


def entry(domain, behaviour="normal", **kw):
    kw.setdefault("mailboxes", BOXES)
    return domain_entry(domain, behaviour=behaviour, **kw)


def test_existing_mailbox_on_a_normal_domain_is_valid_and_chargeable(sandbox_factory, verify):
    sb = sandbox_factory([entry("nordlys.no")])
    got, _ = verify(sb, "Kari.Nordmann@Nordlys.no")
    v = got["Kari.Nordmann@Nordlys.no"]
    assert (v.status, v.reason, v.normalized) == ("valid", None, "kari.nordmann@nordlys.no")
    assert v.is_chargeable
    assert v.evidence["mx"][0][1] == "mx1.nordlys.no"
    assert "250 2.1.5 OK" in v.evidence["smtp"][-1]["lines"]
    assert v.evidence["catch_all"]["state"] is False
    assert v.checked_at.tzinfo is not None


def test_missing_mailbox_is_invalid_with_the_raw_reply_kept(sandbox_factory, verify):
    sb = sandbox_factory([entry("nordlys.no")])
    got, _ = verify(sb, "nobody@nordlys.no")
    v = got["nobody@nordlys.no"]
    assert (v.status, v.reason) == ("invalid", "mailbox_not_found")
    assert any("User unknown" in line for line in v.evidence["smtp"][-1]["lines"])


def test_gmail_style_multiline_rejection_is_classified_on_its_final_line(sandbox_factory, verify):
    sb = sandbox_factory([entry("fjord.com", mx=[[5, "aspmx.l.google.com"]])])
    got, _ = verify(sb, "nobody@fjord.com", "ola.hansen@fjord.com")
    assert got["nobody@fjord.com"].reason == "mailbox_not_found"
    lines = got["nobody@fjord.com"].evidence["smtp"][-1]["lines"]
    assert any(line.startswith("550-5.1.1") for line in lines)
    assert got["ola.hansen@fjord.com"].status == "valid"
    assert got["ola.hansen@fjord.com"].evidence["provider"] == "google"


def test_catch_all_domain_never_gives_valid(sandbox_factory, verify):
    sb = sandbox_factory([entry("allin.no", "catch_all")])
    got, _ = verify(sb, "kari.nordmann@allin.no", "nobody@allin.no")
    for v in got.values():
        assert (v.status, v.reason) == ("accept_all", "catch_all")
        assert "catch_all" in v.flags
        assert not v.is_chargeable


def test_catch_all_probe_runs_once_per_domain_and_again_after_the_ttl(
    sandbox_factory, verify, clock
):
    sb = sandbox_factory([entry("nordlys.no"), entry("allin.no", "catch_all")])
    addrs = [f"{b}@{d}" for d in ("nordlys.no", "allin.no") for b in [*BOXES, "x1", "x2"]]
    _, verifier = verify(sb, *addrs, catch_all_ttl=3600)
    probes = verifier.catch_all_cache.probes
    assert sorted((k[-1], n) for k, n in probes.items()) == [("allin.no", 1), ("nordlys.no", 1)]
    probe_rcpts = [a for a, _ in sb.smtp.stats.rcpts if a.startswith("lp-")]
    assert len(probe_rcpts) == 2

    clock.advance(3601)
    asyncio.run(verifier.verify_many(["kari.nordmann@nordlys.no"]))
    assert probes[(*verifier._world, "nordlys.no")] == 2


def test_greylisting_gives_unknown_then_the_truth_after_the_requeue(sandbox_factory, verify, clock):
    sb = sandbox_factory([entry("grey.no", "greylist", greylist_seconds=300)])
    got, verifier = verify(sb, "kari.nordmann@grey.no", "nobody@grey.no")
    for v in got.values():
        assert (v.status, v.reason) == ("unknown", "greylisted")
        assert "greylisted" in v.flags
    assert verifier.rechecks_due() == []  # not before the re-check delay

    clock.advance(301)
    assert verifier.rechecks_due() == ["kari.nordmann@grey.no", "nobody@grey.no"]
    again = {v.address: v for v in asyncio.run(verifier.recheck_due())}
    assert again["kari.nordmann@grey.no"].status == "valid"
    assert (again["nobody@grey.no"].status, again["nobody@grey.no"].reason) == (
        "invalid",
        "mailbox_not_found",
    )
    assert verifier.rechecks == {}


def test_greylist_requeue_gives_up_after_the_last_delay(sandbox_factory, verify, clock):
    sb = sandbox_factory([entry("grey.no", "greylist", greylist_seconds=10_000)])
    _, verifier = verify(sb, "kari.nordmann@grey.no", recheck_delays=(60.0, 120.0))
    clock.advance(61)
    (v,) = asyncio.run(verifier.recheck_due())
    assert v.status == "unknown"
    clock.advance(121)
    (v,) = asyncio.run(verifier.recheck_due())
    assert v.status == "unknown"
    assert verifier.rechecks == {}


def test_tarpit_gives_unknown_timeout_and_the_host_is_backed_off(sandbox_factory, verify):
    sb = sandbox_factory([entry("slow.no", "tarpit")], tarpit_seconds=5.0)
    addrs = [f"{b}@slow.no" for b in [*BOXES, "nobody", "x1", "x2"]]
    got, _ = verify(sb, *addrs)
    for v in got.values():
        assert (v.status, v.reason) == ("unknown", "smtp_timeout")
    # Only the first sessions (per-MX cap) waited for the tarpit; the rest were not sent.
    assert len(sb.smtp.stats.rcpts) <= 2 * 2


def test_forced_disconnect_is_unknown_never_invalid(sandbox_factory, verify):
    sb = sandbox_factory([entry("drop.no", "disconnect")])
    got, _ = verify(sb, "kari.nordmann@drop.no", "nobody@drop.no")
    for v in got.values():
        assert (v.status, v.reason) == ("unknown", "smtp_timeout")
    # Reconnected once per MX host before giving up.
    assert len(sb.smtp.stats.rcpts_to("nobody@drop.no")) == 4


def test_second_rcpt_rejection_still_gives_true_verdicts(sandbox_factory, verify):
    mx = [[0, "drift-no.mail.protection.outlook.com"]]
    sb = sandbox_factory([entry("drift.no", "second_rcpt_reject", mx=mx)])
    got, _ = verify(sb, "kari.nordmann@drift.no", "nobody@drift.no")
    assert got["kari.nordmann@drift.no"].status == "valid"
    assert got["nobody@drift.no"].status == "invalid"
    assert not any("4.5.3" in line for _, line in sb.smtp.stats.rcpts)


def test_blacklist_reply_is_unknown_blocked_and_stops_probing(sandbox_factory, verify):
    sb = sandbox_factory([entry("spamhausd.no", "blacklist")])
    addrs = [f"{b}@spamhausd.no" for b in [*BOXES, "nobody", "x1", "x2", "x3"]]
    got, _ = verify(sb, *addrs, per_mx_concurrency=1)
    for v in got.values():
        assert (v.status, v.reason) == ("unknown", "smtp_blocked")
        assert "blocked" in v.flags
    assert len(sb.smtp.stats.rcpts) == 1  # stop on the first blacklist reply


def test_yahoo_like_provider_is_unverifiable_without_any_smtp(sandbox_factory, verify):
    mx = [[1, "mta5.am0.yahoodns.net"]]
    sb = sandbox_factory([entry("ravn.com", "yahoo_like", mx=mx)])
    got, _ = verify(sb, "kari.nordmann@ravn.com", "nobody@ravn.com")
    for v in got.values():
        assert (v.status, v.reason) == ("unknown", "provider_unverifiable")
    assert sb.smtp.stats.rcpts == []


def test_yahoo_like_behaviour_behind_an_ordinary_mx_is_accept_all(sandbox_factory, verify):
    sb = sandbox_factory([entry("ravn.no", "yahoo_like")])
    got, _ = verify(sb, "nobody@ravn.no")
    assert got["nobody@ravn.no"].status == "accept_all"


def test_dbeb_access_denied_is_mailbox_not_found_not_a_block(sandbox_factory, verify):
    mx = [[0, "havn-no.mail.protection.outlook.com"]]
    sb = sandbox_factory([entry("havn.no", "dbeb", mx=mx)])
    got, _ = verify(sb, "nobody@havn.no", "kari.nordmann@havn.no")
    assert (got["nobody@havn.no"].status, got["nobody@havn.no"].reason) == (
        "invalid",
        "mailbox_not_found",
    )
    assert got["kari.nordmann@havn.no"].status == "valid"
    assert got["kari.nordmann@havn.no"].evidence["provider"] == "microsoft365"


def test_full_and_disabled_mailboxes(sandbox_factory, verify):
    sb = sandbox_factory([entry("nordlys.no", full=["full.box"], disabled=["gone"])])
    got, _ = verify(sb, "full.box@nordlys.no", "gone@nordlys.no")
    full, gone = got["full.box@nordlys.no"], got["gone@nordlys.no"]
    assert (full.status, full.reason, full.flags) == ("unknown", "mailbox_full", ("full_inbox",))
    assert (gone.status, gone.reason, gone.flags) == ("invalid", "disabled", ("disabled",))


@pytest.mark.parametrize(
    ("extra", "status", "reason"),
    [
        ({"mx": [[0, "."]], "behaviour": None}, "invalid", "null_mx"),
        ({"dns": "nxdomain"}, "invalid", "nxdomain"),
        ({"dns": "servfail"}, "unknown", "dns_error"),
        ({"dns": "timeout"}, "unknown", "dns_error"),
        ({"mx": [], "a": []}, "invalid", "no_mx"),
        ({"mx": [], "spf": "v=spf1 -all"}, "invalid", "no_mx"),
    ],
)
def test_dns_outcomes(sandbox_factory, verify, extra, status, reason):
    behaviour = extra.pop("behaviour", "normal")
    sb = sandbox_factory([entry("dnscase.no", behaviour, **extra)])
    got, _ = verify(sb, "kari.nordmann@dnscase.no")
    v = got["kari.nordmann@dnscase.no"]
    assert (v.status, v.reason) == (status, reason)


def test_nodata_for_mx_falls_back_to_the_a_record(sandbox_factory, verify):
    sb = sandbox_factory([entry("amx.no", mx=[])])
    got, _ = verify(sb, "kari.nordmann@amx.no", "nobody@amx.no")
    assert got["kari.nordmann@amx.no"].status == "valid"
    assert got["kari.nordmann@amx.no"].evidence["dns"] == "implicit"
    assert got["nobody@amx.no"].status == "invalid"


def test_loopback_mail_hosts_are_refused_without_a_nameserver_override(sandbox_factory, clock):
    from enrichment.verification import CatchAllCache, VerificationConfig, Verifier
    from enrichment.verification.dns import resolver_build

    sb = sandbox_factory([entry("nordlys.no")])
    sandbox_resolver = resolver_build(VerificationConfig(nameserver=sb.nameserver))
    production_like = VerificationConfig(smtp_port=sb.smtp_port, clock=clock)
    verifier = Verifier(production_like, resolver=sandbox_resolver, catch_all_cache=CatchAllCache())
    (v,) = asyncio.run(verifier.verify_many(["kari.nordmann@nordlys.no"]))
    assert (v.status, v.reason) == ("invalid", "no_mx")
    assert sb.smtp.stats.rcpts == []


def test_mx_hosts_are_tried_in_preference_order(sandbox_factory, verify):
    mx = [[30, "mx3.pref.no"], [10, "mx1.pref.no"], [20, "mx2.pref.no"]]
    sb = sandbox_factory([entry("pref.no", mx=mx)])
    got, _ = verify(sb, "kari.nordmann@pref.no")
    v = got["kari.nordmann@pref.no"]
    assert [h[1] for h in v.evidence["mx"]] == ["mx1.pref.no", "mx2.pref.no", "mx3.pref.no"]
    assert v.evidence["smtp"][0]["host"] == "mx1.pref.no"


def test_refused_connection_is_unknown_never_invalid(sandbox_factory, verify):
    from sandbox.servers.smtp import free_port

    sb = sandbox_factory([entry("nordlys.no")])
    got, _ = verify(sb, "nobody@nordlys.no", smtp_port=free_port())
    assert (got["nobody@nordlys.no"].status, got["nobody@nordlys.no"].reason) == (
        "unknown",
        "smtp_timeout",
    )


def test_ehlo_and_mail_from_come_from_the_config(sandbox_factory, verify):
    sb = sandbox_factory([entry("nordlys.no")])
    verify(
        sb,
        "kari.nordmann@nordlys.no",
        ehlo_name="mx-out.leadpilot.no",
        mail_from="bounce@leadpilot.no",
    )
    assert set(sb.smtp.stats.helos) - {"mx-out.leadpilot.no"} <= {None, ""}
    assert "mx-out.leadpilot.no" in sb.smtp.stats.helos
    assert set(sb.smtp.stats.mail_froms) == {"bounce@leadpilot.no"}


def test_impossible_helo_is_refused_and_reported_as_blocked_not_invalid(sandbox_factory, verify):
    sb = sandbox_factory([entry("nordlys.no")])
    got, _ = verify(sb, "nobody@nordlys.no", ehlo_name="gmail.com")
    assert (got["nobody@nordlys.no"].status, got["nobody@nordlys.no"].reason) == (
        "unknown",
        "smtp_blocked",
    )


def test_sessions_per_mx_host_stay_under_the_cap(sandbox_factory, verify):
    # Slow replies make the sessions overlap, so an uncapped client would open ~25 at once.
    sb = sandbox_factory([entry("nordlys.no", mx=[[10, "mx1.nordlys.no"]])], smtp_latency_ms=20)
    addrs = [f"person{i}@nordlys.no" for i in range(24)] + ["kari.nordmann@nordlys.no"]
    got, _ = verify(sb, *addrs, per_mx_concurrency=2)
    assert got["kari.nordmann@nordlys.no"].status == "valid"
    assert 1 <= sb.smtp.stats.max_active_by_domain["nordlys.no"] <= 2


def test_address_flags_do_not_change_the_mailbox_status(sandbox_factory, verify):
    sb = sandbox_factory([entry("nordlys.no")])
    got, _ = verify(sb, "post@nordlys.no", "not an address", "someone@x.mailinator.com")
    post = got["post@nordlys.no"]
    assert (post.status, post.flags) == ("valid", ("role_account",))
    assert not post.is_chargeable
    assert (got["not an address"].status, got["not an address"].reason) == ("invalid", "syntax")
    assert "disposable" in got["someone@x.mailinator.com"].flags
    assert not got["someone@x.mailinator.com"].is_chargeable


def test_many_addresses_verify_concurrently_with_exact_verdicts(sandbox_factory, verify):
    from sandbox.servers.worlds import world_mix

    domains, probes = world_mix(seed=3, domains=30, addresses=300, greylist_seconds=300)
    sb = sandbox_factory(domains, tarpit_seconds=10.0)
    # A loaded CI machine can take longer than FAST's 0.5 s for one reply among hundreds, and one
    # stalled reply backs its host off for the rest of the batch; the tarpit (10 s) still outlasts
    # these limits, so it is still caught.
    slow_ok = Timeouts(dns=4.0, smtp_connect=4.0, smtp_command=4.0)
    got, _ = verify(sb, *(p.address for p in probes), timeouts=slow_ok)
    false_valid = [p for p in probes if got[p.address].status == "valid" and not p.exists]
    false_invalid = [p for p in probes if got[p.address].status == "invalid" and p.exists]
    assert false_valid == []
    assert false_invalid == []
    normal_existing = [p for p in probes if p.kind == "normal" and p.mailbox == "exists"]
    assert normal_existing
    not_valid = [
        (p.address, got[p.address].status, got[p.address].reason)
        for p in normal_existing
        if got[p.address].status != "valid"
    ]
    assert not_valid == []


def test_internationalised_domain_is_asked_and_probed_in_its_ascii_form(sandbox_factory, verify):
    sb = sandbox_factory([entry("xn--fjrd-hra.no")])
    got, _ = verify(sb, "kari.nordmann@fjørd.no", "nobody@fjørd.no")
    assert got["kari.nordmann@fjørd.no"].status == "valid"
    assert got["kari.nordmann@fjørd.no"].normalized == "kari.nordmann@fjørd.no"
    assert got["nobody@fjørd.no"].status == "invalid"
    assert "kari.nordmann@xn--fjrd-hra.no" in [a for a, _ in sb.smtp.stats.rcpts]


def test_probes_share_connections_and_stay_exact(sandbox_factory, verify):
    sb = sandbox_factory([entry("nordlys.no", mx=[[10, "mx1.nordlys.no"]])])
    addrs = [f"person{i}@nordlys.no" for i in range(10)] + [f"{b}@nordlys.no" for b in BOXES]
    before = sb.smtp.stats.sessions
    got, _ = verify(sb, *addrs, per_mx_concurrency=1)
    assert [a for a in addrs if got[a].status != ("invalid" if "person" in a else "valid")] == []
    assert sb.smtp.stats.sessions - before < len(addrs)  # RSET + next probe, not a new session
    assert any(
        line.startswith("~: same connection")
        for v in got.values()
        for s in v.evidence["smtp"]
        for line in s["lines"]
    )


def test_second_transaction_rejection_falls_back_to_fresh_connections(sandbox_factory, verify):
    # An ordinary-looking MX that punishes the second RCPT of a connection, like outlook.fr.
    sb = sandbox_factory([entry("drift.no", "second_rcpt_reject", mx=[[10, "mx1.drift.no"]])])
    addrs = ["kari.nordmann@drift.no", "nobody@drift.no", "ola.hansen@drift.no", "x@drift.no"]
    got, verifier = verify(sb, *addrs, per_mx_concurrency=1)
    assert {a: got[a].status for a in addrs} == {
        "kari.nordmann@drift.no": "valid",
        "nobody@drift.no": "invalid",
        "ola.hansen@drift.no": "valid",
        "x@drift.no": "invalid",
    }
    assert "mx1.drift.no" in verifier._no_reuse


def test_settled_verdicts_are_reused_for_a_while_without_probing_again(
    sandbox_factory, verify, clock
):
    sb = sandbox_factory([entry("nordlys.no"), entry("grey.no", "greylist", greylist_seconds=900)])
    addrs = ["kari.nordmann@nordlys.no", "nobody@nordlys.no", "kari.nordmann@grey.no"]
    first, _ = verify(sb, *addrs)
    probed = len(sb.smtp.stats.rcpts)

    # Another chunk, another Verifier (another organisation's search), a minute later.
    clock.advance(60)
    again, _ = verify(sb, "Kari.Nordmann@nordlys.no", "nobody@nordlys.no")
    valid, gone = again["Kari.Nordmann@nordlys.no"], again["nobody@nordlys.no"]
    assert (valid.status, valid.address, valid.is_chargeable) == (
        "valid",
        "Kari.Nordmann@nordlys.no",
        True,
    )
    assert (gone.status, gone.reason) == ("invalid", "mailbox_not_found")
    assert len(sb.smtp.stats.rcpts) == probed  # no new RCPT
    assert valid.evidence["reused"] is True
    assert valid.checked_at == first["kari.nordmann@nordlys.no"].checked_at  # honest age
    assert valid.evidence["smtp"] == first["kari.nordmann@nordlys.no"].evidence["smtp"]

    # An unknown (greylisted) verdict is never reused: the server is asked again.
    grey, _ = verify(sb, "kari.nordmann@grey.no")
    assert grey["kari.nordmann@grey.no"].status == "unknown"
    assert len(sb.smtp.stats.rcpts_to("kari.nordmann@grey.no")) == 2

    # After verdict_ttl the mailbox is probed again; with verdict_ttl=0 it always is.
    clock.advance(300)
    verify(sb, "kari.nordmann@nordlys.no")
    assert len(sb.smtp.stats.rcpts_to("kari.nordmann@nordlys.no")) == 2
    verify(sb, "nobody@nordlys.no", verdict_ttl=0)
    assert len(sb.smtp.stats.rcpts_to("nobody@nordlys.no")) == 2


def test_catch_all_probe_is_asked_in_the_targets_transaction(sandbox_factory, verify):
    sb = sandbox_factory([entry("nordlys.no"), entry("allin.no", "catch_all")])
    before = sb.smtp.stats.sessions  # the server's own start-up check
    got, verifier = verify(sb, "kari.nordmann@nordlys.no", "kari.nordmann@allin.no")
    valid, accept_all = got["kari.nordmann@nordlys.no"], got["kari.nordmann@allin.no"]
    assert (valid.status, valid.is_chargeable) == ("valid", True)
    assert (accept_all.status, accept_all.reason) == ("accept_all", "catch_all")
    for v, state in ((valid, False), (accept_all, True)):
        domain = v.normalized.rpartition("@")[2]
        (session,) = v.evidence["smtp"]
        rcpts = [line for line in session["lines"] if line.startswith("C: RCPT")]
        # RCPT target, then RCPT probe, one transaction: no RSET, no second MAIL FROM.
        assert rcpts == [
            f"C: RCPT TO:<kari.nordmann@{domain}>",
            f"C: RCPT TO:<{v.evidence['catch_all']['probe']}>",
        ]
        assert not any(line.startswith(("C: RSET", "~:")) for line in session["lines"])
        assert v.evidence["catch_all"]["state"] is state
        assert v.evidence["catch_all"]["sessions"] == [session]
    assert sb.smtp.stats.sessions - before == 2
    assert sorted(n for n in verifier.catch_all_cache.probes.values()) == [1, 1]


def test_a_second_rcpt_punished_with_a_4xx_is_asked_again_in_its_own_transaction(
    sandbox_factory, verify
):
    sb = sandbox_factory([entry("drift.no", "second_rcpt_reject", mx=[[10, "mx1.drift.no"]])])
    got, verifier = verify(sb, "kari.nordmann@drift.no")
    v = got["kari.nordmann@drift.no"]
    # The probe's 452 in the target's transaction settles nothing; the probe alone, on a fresh
    # connection, proves the domain is not catch-all.
    assert (v.status, v.evidence["catch_all"]["state"]) == ("valid", False)
    assert [line for _, line in sb.smtp.stats.rcpts if line.startswith("452")]
    assert "mx1.drift.no" in verifier._no_reuse
    (probe_session,) = v.evidence["catch_all"]["sessions"]
    rcpt = probe_session["lines"].index(f"C: RCPT TO:<{v.evidence['catch_all']['probe']}>")
    assert probe_session["lines"][rcpt + 1].startswith("550 5.1.1")
    assert not any(line.startswith("C: RCPT TO:<kari") for line in probe_session["lines"])


def test_a_tarpit_found_by_one_verifier_is_not_queued_on_by_the_next(sandbox_factory, verify):
    import time

    sb = sandbox_factory([entry("slow.no", "tarpit")], tarpit_seconds=5.0)
    verify(sb, *(f"{b}@slow.no" for b in [*BOXES, "nobody", "x1", "x2"]))  # both MX hosts
    asked = len(sb.smtp.stats.rcpts)
    # The next chunk of the search (a new Verifier in the same process) does not wait again.
    started = time.monotonic()
    got, _ = verify(sb, "post@slow.no")
    assert time.monotonic() - started < 0.5
    assert (got["post@slow.no"].status, got["post@slow.no"].reason) == ("unknown", "smtp_timeout")
    assert len(sb.smtp.stats.rcpts) == asked
