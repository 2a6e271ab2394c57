"""Verification engine bench: throughput and accuracy against the sandbox internet.

    python bench/verify.py            # 10,000 addresses over 200 domains
    python bench/verify.py --quick    # CI smoke: 400 addresses over 20 domains

Phases (each with a freshly started sandbox in a child process, so the servers do not share
this process's cores/GIL, and with empty per-process caches):
  1. engine, no injected latency;
  2. email-validator's DNS-only deliverability check on the same addresses (baseline);
  3. engine with 100 ms before every SMTP reply and 30 ms before every DNS answer;
  4. website discovery on a generated world's company sites (HTTPS, redirects, robots.txt,
     team pages; sandbox/world): `discovery_recall` = people the ground truth says a polite
     crawler can find (WebSpec.findable_people) that the crawler found, over those findable.
Accuracy is a confusion matrix against the world's ground truth (does the mailbox exist and take
mail). Client timeouts are shortened (5 s per SMTP reply, 2 s with --quick; the sandbox tarpit holds 30 s), as an
operator would for a bulk run; that changes how long tarpits cost, not any verdict.
The last line is key=value figures.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import figures_line, peak_rss_mb  # noqa: E402

STATUSES = ("valid", "invalid", "accept_all", "unknown")
BASELINE_THREADS = 32


def _serve(domains, opts, conn, stop) -> None:
    from sandbox.servers import Sandbox

    sb = Sandbox(domains, **opts).start()
    conn.send((sb.dns_port, sb.smtp_port, sb.http_port, sb.https_port, sb.ca_file))
    stop.wait()
    sb.stop()


class ChildSandbox:
    def __init__(self, domains, **opts) -> None:
        ctx = mp.get_context("spawn")
        self.stop = ctx.Event()
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(domains, opts, child, self.stop), daemon=True)
        self.proc.start()
        if not parent.poll(60):
            raise RuntimeError("sandbox child did not start")
        ports = parent.recv()
        self.dns_port, self.smtp_port, self.http_port, self.https_port, self.ca_file = ports

    def close(self) -> None:
        self.stop.set()
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()


def matrix(probes, statuses: dict[str, str]) -> dict[tuple[bool, str], int]:
    return Counter((p.exists, statuses[p.address]) for p in probes)


def matrix_print(title: str, m: dict[tuple[bool, str], int]) -> None:
    print(f"\n{title}")
    print("  " + "truth / verdict".ljust(18) + "".join(f"{s:>12}" for s in STATUSES))
    for exists in (True, False):
        label = "exists" if exists else "does not exist"
        print(f"  {label:<18}" + "".join(f"{m.get((exists, s), 0):>12}" for s in STATUSES))


def reasons_print(verdicts) -> None:
    reasons = Counter(f"{v.status}/{v.reason}" for v in verdicts)
    print("\nengine verdicts by reason: " + ", ".join(f"{k}={n}" for k, n in reasons.most_common()))


def engine_run(probes, sb: ChildSandbox, *, concurrency: int, smtp_timeout: float):
    from enrichment.verification import (
        Timeouts,
        VerificationConfig,
        Verifier,
        verification_caches_clear,
    )

    verification_caches_clear()
    config = VerificationConfig(
        nameserver=("127.0.0.1", sb.dns_port),
        smtp_port=sb.smtp_port,
        http_port=sb.http_port,
        ehlo_name="bench.leadpilot.no",
        mail_from="probe@bench.leadpilot.no",
        timeouts=Timeouts(dns=3.0, smtp_connect=smtp_timeout, smtp_command=smtp_timeout),
        concurrency=concurrency,
        per_mx_concurrency=2,
    )

    async def go():
        verifier = Verifier(config)
        start = time.perf_counter()
        verdicts = await verifier.verify_many([p.address for p in probes])
        return verdicts, time.perf_counter() - start

    verdicts, elapsed = asyncio.run(go())
    return {v.address: v.status for v in verdicts}, elapsed, verdicts


def baseline_run(probes, sb: ChildSandbox):
    """email-validator with check_deliverability=True: DNS only, no SMTP."""
    import dns.resolver
    from email_validator import EmailNotValidError, caching_resolver, validate_email

    res = dns.resolver.Resolver(configure=False)
    res.nameservers, res.port = ["127.0.0.1"], sb.dns_port
    resolver = caching_resolver(timeout=2, dns_resolver=res)

    def check(address: str) -> str:
        try:
            info = validate_email(address, check_deliverability=True, dns_resolver=resolver)
        except EmailNotValidError:
            return "invalid"
        return "unknown" if getattr(info, "unknown-deliverability", None) else "valid"

    # Threads, so a silent nameserver (2 s lifetime, never cached) does not serialise the run.
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=BASELINE_THREADS) as pool:
        results = list(pool.map(check, [p.address for p in probes]))
    elapsed = time.perf_counter() - start
    return {p.address: r for p, r in zip(probes, results, strict=True)}, elapsed


def discovery_run(*, seed: int, companies: int, http_timeout: float) -> dict[str, object]:
    """Phase 4: every company site of a generated world read as the night reads it; people
    found against the manifest's ground truth."""
    import tempfile

    from enrichment.people import site_people
    from enrichment.verification import Timeouts, VerificationConfig, verification_caches_clear
    from enrichment.verification.candidates import name_fold
    from enrichment.verification.discovery import Discovery
    from enrichment.verification.dns import DnsClient
    from enrichment.web import WebConfig
    from sandbox.servers.manifest import domains_load
    from sandbox.world import world_generate

    with tempfile.TemporaryDirectory(prefix="lp-bench-world-") as tmp:
        world_generate(seed=seed, companies=companies, out=Path(tmp), compress=False)
        specs = domains_load(tmp)
    sites = {d: s for d, s in specs.items() if s.dns == "ok" and s.web and s.web.registry_id}
    truth = {d: set(map(name_fold, s.web.findable_people())) for d, s in sites.items()}
    findable = sum(len(t) for t in truth.values())
    sb = ChildSandbox(list(specs.values()), tarpit_seconds=5.0)
    try:
        verification_caches_clear()
        config = VerificationConfig(
            nameserver=("127.0.0.1", sb.dns_port),
            smtp_port=sb.smtp_port,
            http_port=sb.http_port,
            timeouts=Timeouts(dns=3.0, http=http_timeout),
        )
        web = WebConfig(
            http_port=sb.http_port,
            https_port=sb.https_port,
            ca_file=sb.ca_file,
            delay=0.0,
            timeout=http_timeout,
            page_deadline=http_timeout * 1.5,
        )

        async def go():
            disc = Discovery(config, DnsClient(config), web)
            sem = asyncio.Semaphore(64)

            async def one(domain):
                async with sem:
                    return domain, await disc.site_visit(domain)

            try:
                return await asyncio.gather(*(one(d) for d in sites))
            finally:
                await disc.aclose()

        start = time.perf_counter()
        visits = asyncio.run(go())
        elapsed = time.perf_counter() - start
    finally:
        sb.close()
    found = extra = 0
    skipped: Counter[str] = Counter()
    states: Counter[str] = Counter()
    for domain, visit in visits:
        states[visit.state] += 1
        skipped.update(e["skipped"] for e in visit.log if e.get("skipped"))
        names = {name_fold(m.name) for m in site_people(visit.pages)}
        found += len(names & truth[domain])
        extra += len(names - truth[domain])
    recall = found / findable if findable else 0.0
    print(
        f"\nwebsite discovery: {len(sites)} company sites in {elapsed:.1f} s "
        f"({', '.join(f'{k}={n}' for k, n in sorted(states.items()))}); pages skipped: "
        + (", ".join(f"{k}={n}" for k, n in skipped.most_common()) or "none")
    )
    print(
        f"  people findable (ground truth) {findable}, found {found} "
        f"(recall {recall:.3f}), found but not findable {extra}"
    )
    return {
        "discovery_recall": round(recall, 3),
        "discovery_findable": findable,
        "discovery_not_findable_found": extra,
        "discovery_sites": len(sites),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--domains", type=int, default=200)
    ap.add_argument("--addresses", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--smtp-latency-ms", type=float, default=100.0)
    ap.add_argument("--dns-latency-ms", type=float, default=30.0)
    ap.add_argument("--tarpit-seconds", type=float, default=30.0)
    ap.add_argument("--smtp-timeout", type=float, default=5.0, help="client, per reply")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--world-companies", type=int, default=3000, help="phase 4's world size")
    args = ap.parse_args()
    if args.quick:
        args.domains, args.addresses, args.smtp_timeout = 20, 400, 2.0
        args.world_companies = 600

    from sandbox.servers.worlds import world_mix

    domains, probes = world_mix(seed=args.seed, domains=args.domains, addresses=args.addresses)
    kinds = Counter({p.address.rpartition("@")[2]: p.kind for p in probes}.values())
    print(
        f"world: {len(domains)} domains, {len(probes)} addresses, "
        f"{sum(p.exists for p in probes)} existing mailboxes"
    )
    print("  domain kinds: " + ", ".join(f"{k}={n}" for k, n in sorted(kinds.items())))

    figures: dict[str, object] = {}

    # 1. Engine, no latency.
    sb = ChildSandbox(domains, tarpit_seconds=args.tarpit_seconds)
    try:
        statuses, elapsed, verdicts = engine_run(
            probes, sb, concurrency=args.concurrency, smtp_timeout=args.smtp_timeout
        )
        base_statuses, base_elapsed = baseline_run(probes, sb)
    finally:
        sb.close()
    rate = len(probes) / elapsed
    m = matrix(probes, statuses)
    bm = matrix(probes, base_statuses)
    print(
        f"\nengine, no injected latency: {len(probes)} in {elapsed:.1f} s = {rate:.0f}/s "
        f"(concurrency {args.concurrency}, 2 sessions per MX host)"
    )
    matrix_print("engine confusion matrix (rows: ground truth)", m)
    print(
        f"\nbaseline email-validator DNS-only ({BASELINE_THREADS} threads): {len(probes)} in "
        f"{base_elapsed:.1f} s = "
        f"{len(probes) / base_elapsed:.0f}/s"
    )
    matrix_print("baseline confusion matrix (its 'valid' = domain has mail DNS)", bm)
    reasons_print(verdicts)

    def accuracy(mx) -> tuple[int, int, float]:
        fv = mx.get((False, "valid"), 0)
        fi = mx.get((True, "invalid"), 0)
        decided = sum(n for (e, s), n in mx.items() if s in ("valid", "invalid"))
        correct = mx.get((True, "valid"), 0) + mx.get((False, "invalid"), 0)
        return fv, fi, 100.0 * correct / decided if decided else 0.0

    fv, fi, prec = accuracy(m)
    bfv, bfi, bprec = accuracy(bm)
    print("\nside by side        engine   baseline")
    print(f"  false valid      {fv:>7}   {bfv:>8}")
    print(f"  false invalid    {fi:>7}   {bfi:>8}")
    print(f"  correct/decided  {prec:>6.1f}%   {bprec:>7.1f}%")
    figures.update(
        verify_per_s=round(rate),
        baseline_per_s=round(len(probes) / base_elapsed),
        false_valid=fv,
        false_invalid=fi,
        decided_correct_pct=round(prec, 2),
        baseline_false_valid=bfv,
        baseline_false_invalid=bfi,
    )

    # 3. Engine with injected latency.
    if not args.skip_latency:
        sb = ChildSandbox(
            domains,
            tarpit_seconds=args.tarpit_seconds,
            smtp_latency_ms=args.smtp_latency_ms,
            dns_latency_ms=args.dns_latency_ms,
        )
        try:
            lstatuses, lelapsed, lverdicts = engine_run(
                probes, sb, concurrency=args.concurrency, smtp_timeout=args.smtp_timeout
            )
        finally:
            sb.close()
        lrate = len(probes) / lelapsed
        lm = matrix(probes, lstatuses)
        print(
            f"\nengine, {args.smtp_latency_ms:.0f} ms per SMTP reply + "
            f"{args.dns_latency_ms:.0f} ms per DNS answer: {len(probes)} in {lelapsed:.1f} s = "
            f"{lrate:.0f}/s"
        )
        matrix_print("engine with latency, confusion matrix", lm)
        reasons_print(lverdicts)
        lfv, lfi, _ = accuracy(lm)
        same = sum(lstatuses[a] == statuses[a] for a in statuses)
        print(f"  same verdict as without latency: {same}/{len(statuses)}")
        figures.update(
            verify_latency_per_s=round(lrate), latency_false_valid=lfv, latency_false_invalid=lfi
        )

    # 4. Website discovery on a generated world's company sites.
    figures.update(discovery_run(seed=args.seed, companies=args.world_companies, http_timeout=2.0))

    figures.update(addresses=len(probes), domains=len(domains), peak_mb=round(peak_rss_mb()))
    print(figures_line(**figures))


if __name__ == "__main__":
    main()
