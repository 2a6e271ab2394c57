"""Benchmark: one whole night of the nightly search, end to end.

    .venv/bin/python bench/nightly.py            # 50 orgs x 2 segments x cap 100, 500,000 companies
    .venv/bin/python bench/nightly.py --quick    # CI smoke: 3 orgs x 2 segments x cap 5, 3,000 companies

Set-up (cached between runs, not timed): a generated world (`generate_world`) imported into its own
database (`load_world`), BENCH_DATABASE_URL (default leadpilot_bench_nightly_<companies>). Both are
rebuilt, with a line saying why, when the migrations, the world generator or seed, or the importers
changed since they were built (bench/_common.py). Each run
truncates the tenants (organisations, users and everything hanging off them, billing included), creates
N organisations with S active segments each, starts the sandbox internet as its own process
(`manage.py sandbox`, injected latency per DNS answer and per SMTP reply; its first line gives the
workers its DNS, SMTP, HTTP and HTTPS ports and the test CA that signs its sites' certificates,
LEADPILOT_HTTP_CA_FILE, so sites that redirect http -> https are read) and W Celery worker processes
(`celery -A leadpilot worker --pool threads --concurrency 2`: two runs at once per process, so one
run's waits on the matching query and on the peers' latency are another's CPU time; `--runs-per-worker 1`
is the former `--pool prefork --concurrency 1`) on Redis (BENCH_BROKER_URL, default db 6, flushed).

Timed: from enqueueing the beat task `leads.dispatch_nightly` (every organisation's night hour is
now) until every run has finished. Figures: wall time of the night, leads/s, candidates verified/s, and
the exactly-once check: leads == usage events == delivery records, with 0 duplicates. During the night
a thread samples pg_stat_activity for the bench database every 50 ms: `max_connections_seen` (the
worker processes' backends, named by PGAPPNAME; this process's and the sandbox's are listed beside
it) against `connections_allowed` = workers x LEADPILOT_DB_POOL_MAX (one pool per worker process;
without a pool, LEADPILOT_DB_POOL_MAX=0: workers x runs per worker x (LEADPILOT_SEARCH_THREADS + 1),
which finished runs' stragglers can exceed). The workers run without the daily SMTP cap
(LEADPILOT_SMTP_DAILY_CAP=0 unless set): the sandbox is nobody's mail server, and a night of 14,000
candidates would pass the default 10,000 transactions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    ROOT,
    BenchDatabase,
    figures_line,
    file_is_current,
    file_mark_current,
    setup_django,
    source_digest,
)

# Segment criteria families; organisation i takes families 2i and 2i+1 (mod len). In the generated
# world Norwegian companies carry CEOs/chairs and often a website in the registry; British ones only
# owners (PSC) and no website, so their contacts need domain discovery (slower, lower yield).
CRITERIA = [
    {"countries": ["NO"], "industries": ["F"], "roles": ["ceo", "chair"]},
    {"countries": ["NO"], "industries": ["K"]},
    {"countries": ["NO"], "industries": ["C"], "roles": ["ceo"]},
    {"countries": ["NO"], "industries": ["G"]},
    {"countries": ["NO"], "roles": ["chair", "board_member"]},
    {"countries": ["NO"], "industries": ["J", "M", "P"]},
    {"countries": ["NO"], "industries": ["43"], "roles": ["chair"]},
    {"countries": ["NO"], "industries": ["C", "F"], "roles": ["board_member", "ceo"]},
    {"countries": ["NO"], "industries": ["H", "I", "N"]},
    {"countries": ["GB"], "roles": ["owner"]},
]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small CI smoke version")
    p.add_argument("--companies", type=int, default=500_000)
    p.add_argument("--orgs", type=int, default=50)
    p.add_argument("--segments", type=int, default=2, help="segments per organisation")
    p.add_argument("--cap", type=int, default=100, help="nightly cap per segment")
    p.add_argument("--latency-ms", type=float, default=50.0, help="per DNS answer and SMTP reply")
    p.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    p.add_argument(
        "--runs-per-worker",
        type=int,
        default=2,
        help="segment runs each worker process works on at once (>1: Celery's threads pool; "
        "1: prefork, one child)",
    )
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--timeout", type=float, default=1800.0, help="give up after this long")
    args = p.parse_args()
    if args.quick:
        args.companies, args.orgs, args.cap, args.latency_ms = 3000, 3, 5, 5.0
        args.timeout = 120.0
    return args


def step(text: str) -> None:
    print(f"nightly-bench: {text}", flush=True)


def world_digest(args: argparse.Namespace) -> str:
    """What the generated world's files depend on: the generator, its seed and size."""
    return source_digest(
        ROOT / "sandbox" / "world",
        ROOT / "sandbox" / "management" / "commands" / "generate_world.py",
        f"seed={args.seed} companies={args.companies}",
    )


def directory_digest(args: argparse.Namespace) -> str:
    """What the bench database's directory depends on: the world and the importers."""
    return source_digest(
        world_digest(args),
        ROOT / "enrichment" / "importers",
        ROOT / "enrichment" / "management" / "commands" / "load_world.py",
    )


def prepare_world(args: argparse.Namespace, db: BenchDatabase) -> Path:
    from django.conf import settings
    from django.core.management import call_command

    world = Path(settings.VAR_DIR) / "bench" / f"nightly-world-{args.companies}-s{args.seed}"
    digest = world_digest(args)
    if not file_is_current(world, digest):
        if world.exists():
            step(f"the world generator changed since {world} was made: generating it again")
            shutil.rmtree(world)
        step(f"generating a world of {args.companies:,} companies into {world} (once)")
        call_command("generate_world", seed=args.seed, companies=args.companies, out=world)
        file_mark_current(world, digest)
    if not db.reusable:
        step("importing the world's registry files (once)")
        db.mark_building()
        call_command("load_world", str(world), "--no-progress")
        db.mark_built()
    return world


def analyze() -> None:
    """Fresh planner statistics before the timed part: the import leaves the role and person
    tables unanalysed, and a server with autovacuum off (this machine's) never catches up, so
    the matching query would be planned for a few hundred roles instead of 700,000."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def reset_tenants() -> None:
    """Start every run from no tenants at all. TRUNCATE: the ledger's append-only trigger is a
    row trigger and does not fire; this is the bench's own database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE organizations_organization, organizations_user RESTART IDENTITY CASCADE"
        )


def create_tenants(args: argparse.Namespace) -> None:
    import datetime as dt

    from organizations.services import (
        email_confirm,
        email_confirmation_token,
        organization_create_with_owner,
    )
    from segments.services import segment_activate, segment_create

    for i in range(args.orgs):
        org, owner = organization_create_with_owner(
            name=f"Bench Org {i:03d}",
            owner_email=f"owner{i:03d}@bench.example",
            owner_password=None,
            timezone="Europe/Oslo",
        )
        email_confirm(token=email_confirmation_token(user=owner))  # the mailed link, opened
        # Its night is now: the dispatcher's tick below picks every organisation up.
        org.night_hour = dt.datetime.now(tz=org.tz).hour
        org.monthly_lead_quota = args.cap * args.segments * 10
        org.save(update_fields=["night_hour", "monthly_lead_quota"])
        for s in range(args.segments):
            criteria = CRITERIA[(i * args.segments + s) % len(CRITERIA)]
            segment = segment_create(
                organization=org,
                name=f"segment {s}",
                criteria=criteria,
                nightly_cap=args.cap,
                created_by=owner,
            )
            segment_activate(organization=org, segment_id=segment.id)


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: str) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces: fields start after its closing parenthesis.
    return raw.rsplit(")", 1)[1].split()


def cpu_seconds() -> dict[str, float]:
    """CPU seconds so far (user + system, children reaped included) per process group and for
    PostgreSQL (every postgres process: the bench's backends and anyone else's; approximate on
    a shared machine). Linux only; empty elsewhere."""
    by_group: dict[str, float] = {}
    postgres = 0.0
    proc = Path("/proc")
    if not proc.is_dir():
        return {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _proc_stat(entry.name)
        if fields is None:
            continue
        # fields[0] is state; utime, stime, cutime, cstime are stat fields 14-17.
        ticks = sum(int(x) for x in fields[11:15])
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm.startswith("postgres"):
            postgres += ticks / _TICK
        by_group[fields[2]] = by_group.get(fields[2], 0.0) + ticks / _TICK
    by_group["postgres"] = postgres
    return by_group


class Processes:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def start_sandbox(world: Path, args: argparse.Namespace, procs: Processes, logs: Path) -> dict:
    env = {**os.environ, "PGAPPNAME": "bench-sandbox"}
    log = logs / "sandbox.log"
    procs.start(
        [
            sys.executable,
            "manage.py",
            "sandbox",
            "--world",
            str(world),
            "--dns-latency-ms",
            str(args.latency_ms),
            "--smtp-latency-ms",
            str(args.latency_ms),
            "--tarpit-seconds",
            "10",
        ],
        env,
        log,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        for line in text.splitlines():
            if line.startswith("dns_port="):
                # dns_port=… smtp_port=… http_port=… domains=… https_port=… ca_file=…
                ports = dict(part.split("=", 1) for part in line.split())
                missing = {"https_port", "ca_file"} - ports.keys()
                if missing or ports["https_port"] == "None":
                    raise SystemExit(f"the sandbox serves no HTTPS ({line!r}): {missing}")
                return ports
        time.sleep(0.3)
    raise SystemExit(f"the sandbox did not start:\n{log.read_text(errors='replace')[-2000:]}")


def start_workers(args, ports: dict, broker: str, procs: Processes, logs: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadpilot.settings.base",
        "CELERY_BROKER_URL": broker,
        "LEADPILOT_DNS_NAMESERVER": f"127.0.0.1:{ports['dns_port']}",
        "LEADPILOT_SMTP_PORT": ports["smtp_port"],
        "LEADPILOT_HTTP_PORT": ports["http_port"],
        # Sites that redirect http -> https are read over TLS, trusting the sandbox's test CA.
        "LEADPILOT_HTTPS_PORT": ports["https_port"],
        "LEADPILOT_HTTP_CA_FILE": ports["ca_file"],
        "EMAIL_URL": "consolemail://",
        "LOG_LEVEL": "INFO",
        # As in production: DEBUG keeps every query's SQL in memory and formats it.
        "DJANGO_DEBUG": "false",
        "LEADPILOT_SMTP_DAILY_CAP": os.environ.get("LEADPILOT_SMTP_DAILY_CAP", "0"),
    }
    for n in range(args.workers):
        procs.start(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "leadpilot",
                "worker",
                *(
                    ["--pool=prefork", "--concurrency=1"]
                    if args.runs_per_worker <= 1
                    else ["--pool=threads", f"--concurrency={args.runs_per_worker}"]
                ),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=nightly-bench{n}@%h",
                "--loglevel=INFO",
            ],
            {**env, "PGAPPNAME": f"bench-worker{n}"},  # names its connections
            logs / f"worker{n}.log",
        )


class ConnectionSampler:
    """The workers' PostgreSQL backends on the bench database (named by PGAPPNAME), sampled every
    50 ms on a connection of its own while the night runs; the other backends at the peak (this
    process's own, the sandbox's) are reported beside it, not counted."""

    def __init__(self, url: str) -> None:
        self.url, self.peak, self.samples = url, 0, 0
        self.at_peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT application_name, count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " GROUP BY 1"
                ).fetchall()
                n = sum(count for name, count in rows if name.startswith("bench-worker"))
                if n > self.peak:
                    self.at_peak = {name or "this process": count for name, count in rows}
                self.peak, self.samples = max(self.peak, n), self.samples + 1
                time.sleep(0.05)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def connections_allowed(args: argparse.Namespace) -> int:
    """What the configuration allows the worker processes."""
    from django.conf import settings

    pool_max = int(os.environ.get("LEADPILOT_DB_POOL_MAX", settings.LEADPILOT_DB_POOL_MAX))
    if pool_max > 0:
        return args.workers * pool_max
    threads = int(os.environ.get("LEADPILOT_SEARCH_THREADS", settings.LEADPILOT_SEARCH_THREADS))
    return args.workers * max(args.runs_per_worker, 1) * (threads + 1)


def main() -> None:
    args = parse_args()
    # A SIGTERM (timeout, Ctrl-C from a supervisor) still stops the sandbox and the workers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.setdefault(
        "BENCH_DATABASE_URL",
        f"postgres://postgres@127.0.0.1:5432/leadpilot_bench_nightly_{args.companies}",
    )
    broker = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/6")
    os.environ["CELERY_BROKER_URL"] = broker
    db = setup_django(built_by=directory_digest(args))

    import redis
    from django.conf import settings
    from django.db.models import Count, Sum

    from billing.models import UsageEvent
    from blocklists.models import DeliveryRecord
    from leadpilot.celery import app
    from leads.models import Lead, SearchRun
    from leads.tasks import dispatch_nightly

    world = prepare_world(args, db)
    reset_tenants()
    create_tenants(args)
    analyze()
    segments = args.orgs * args.segments
    logs = Path(settings.VAR_DIR) / "bench" / "nightly-logs"
    logs.mkdir(parents=True, exist_ok=True)
    redis.Redis.from_url(broker).flushdb()
    app.conf.task_always_eager = False
    procs = Processes()
    try:
        step(f"starting the sandbox internet ({args.latency_ms:g} ms per DNS answer/SMTP reply)")
        ports = start_sandbox(world, args, procs, logs)
        step(
            f"starting {args.workers} worker processes; {args.orgs} orgs x {args.segments} "
            f"segments x cap {args.cap}"
        )
        start_workers(args, ports, broker, procs, logs)
        sampler = ConnectionSampler(os.environ["BENCH_DATABASE_URL"])
        sampler.start()
        cpu_before = cpu_seconds()
        started = time.monotonic()
        dispatch_nightly.delay()
        deadline = started + args.timeout
        runs = SearchRun.all_orgs  # the bench reads across tenants
        while True:
            finished = runs.filter(status__in=["succeeded", "failed"]).count()
            if finished == segments:
                break
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"timed out: {finished}/{segments} runs finished after {args.timeout:.0f}s; "
                    f"logs in {logs}"
                )
            time.sleep(0.25)
        wall = time.monotonic() - started
        cpu_after = cpu_seconds()
        sampler.stop()
    finally:
        procs.stop()
        redis.Redis.from_url(broker).flushdb()

    leads = Lead.all_orgs.count()
    events = UsageEvent.all_orgs.count()
    deliveries = DeliveryRecord.all_orgs.count()
    dup_people = (
        Lead.all_orgs.values("organization_id", "person_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    dup_events = (
        UsageEvent.all_orgs.values("organization_id", "lead_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    uncharged = Lead.all_orgs.exclude(id__in=UsageEvent.all_orgs.values("lead_id")).count()
    totals = runs.aggregate(
        verified=Sum("verified"),
        unverified=Sum("unverified"),
        errors=Sum("errors"),
        matched=Sum("matched"),
    )
    tried = (totals["verified"] or 0) + (totals["unverified"] or 0)
    stops = dict(runs.values_list("stop_reason").annotate(n=Count("id")))
    failed = runs.filter(status="failed").count()
    duplicates = dup_people + dup_events + uncharged
    print(f"runs={segments} failed={failed} stop_reasons={stops}")
    print(
        f"leads={leads} usage_events={events} delivery_records={deliveries} "
        f"candidates_tried={tried} verified={totals['verified']} errors={totals['errors']}"
    )

    def used(group: str) -> float:
        return cpu_after.get(group, 0.0) - cpu_before.get(group, 0.0)

    sandbox_pgid = str(procs.procs[0].pid)  # start_new_session: the process group id is the pid
    worker_cpu = sum(used(str(p.pid)) for p in procs.procs[1:])
    sandbox_cpu = used(sandbox_pgid)
    print(
        f"cpu_seconds: workers={worker_cpu:.1f} sandbox={sandbox_cpu:.1f} "
        f"postgres={used('postgres'):.1f} (machine-wide) of {wall * (os.cpu_count() or 1):.0f} "
        f"available; per candidate tried: workers {1000 * worker_cpu / max(tried, 1):.1f} ms, "
        f"sandbox {1000 * sandbox_cpu / max(tried, 1):.1f} ms"
    )
    print(f"exactly_once={'yes' if leads == events == deliveries and duplicates == 0 else 'NO'}")
    allowed = connections_allowed(args)
    print(
        f"max_connections_seen={sampler.peak} connections_allowed={allowed} "
        f"({sampler.samples} samples of pg_stat_activity; at the peak: {sampler.at_peak})"
    )
    print(
        figures_line(
            wall_s=f"{wall:.1f}",
            leads=leads,
            leads_per_s=f"{leads / wall:.1f}",
            verified_per_s=f"{tried / wall:.1f}",
            usage_events=events,
            duplicates=duplicates,
            orgs=args.orgs,
            segments=segments,
            companies=args.companies,
            latency_ms=f"{args.latency_ms:g}",
            workers=args.workers,
            runs_per_worker=args.runs_per_worker,
            worker_cpu_s=f"{worker_cpu:.1f}",
            sandbox_cpu_s=f"{sandbox_cpu:.1f}",
            max_connections_seen=sampler.peak,
            connections_allowed=allowed,
        )
    )
    if leads != events or duplicates or failed or sampler.peak > allowed:
        sys.exit(1)


if __name__ == "__main__":
    main()
