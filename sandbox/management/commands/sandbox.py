"""Serve a generated world's internet (DNS, SMTP, HTTP) on 127.0.0.1 until interrupted."""

from __future__ import annotations

import contextlib
import gc
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from sandbox.servers import ManifestError, Sandbox


class Command(BaseCommand):
    help = (
        "Start the sandbox DNS, SMTP and HTTP servers for WORLD/internet/domains.jsonl and print "
        "their ports (first line: key=value) and the LEADPILOT_* settings that point at them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--world", required=True, help="world directory (or a .jsonl file)")
        parser.add_argument("--dns-port", type=int, default=0, help="0 = any free port")
        parser.add_argument("--smtp-port", type=int, default=0, help="0 = any free port")
        parser.add_argument("--http-port", type=int, default=0, help="0 = any free port")
        parser.add_argument("--smtp-latency-ms", type=float, default=0.0)
        parser.add_argument("--dns-latency-ms", type=float, default=0.0)
        parser.add_argument("--tarpit-seconds", type=float, default=60.0)
        parser.add_argument(
            "--for-seconds", type=float, default=None, help="stop after this long (default: never)"
        )

    def handle(self, *args, **opts) -> None:
        try:
            sb = Sandbox.from_world(
                opts["world"],
                dns_latency_ms=opts["dns_latency_ms"],
                smtp_latency_ms=opts["smtp_latency_ms"],
                tarpit_seconds=opts["tarpit_seconds"],
            )
        except ManifestError as exc:
            raise CommandError(str(exc)) from exc
        # The world (a 500,000-company bench world is millions of objects) lives as long as the
        # process: keep it out of the garbage collector's full passes, which otherwise walk it
        # again and again while the servers allocate per query.
        gc.collect()
        gc.freeze()
        try:
            sb.start(
                dns_port=opts["dns_port"],
                smtp_port=opts["smtp_port"] or None,
                http_port=opts["http_port"],
            )
        except OSError as exc:
            raise CommandError(f"cannot bind a sandbox port: {exc}") from exc
        stop = threading.Event()
        # ValueError: not the main thread (call_command from a thread); --for-seconds still works.
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        out = self.stdout
        out.write(
            f"dns_port={sb.dns_port} smtp_port={sb.smtp_port} http_port={sb.http_port} "
            f"domains={len(sb.domains)} https_port={sb.https_port} ca_file={sb.ca_file}"
        )
        out.write(f"LEADPILOT_DNS_NAMESERVER=127.0.0.1:{sb.dns_port}")
        out.write(f"LEADPILOT_SMTP_PORT={sb.smtp_port}")
        out.write(f"LEADPILOT_HTTP_PORT={sb.http_port}")
        out.write(f"LEADPILOT_HTTPS_PORT={sb.https_port}")
        out.write(f"LEADPILOT_HTTP_CA_FILE={sb.ca_file}")
        out.flush()
        try:
            stop.wait(opts["for_seconds"])
        except KeyboardInterrupt:
            pass
        finally:
            sb.stop()
