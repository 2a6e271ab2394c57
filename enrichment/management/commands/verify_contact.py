"""Verify one e-mail address and/or phone number and print the verdict as one JSON object."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from django.core.management.base import BaseCommand, CommandError

from enrichment.verification import (
    Timeouts,
    VerificationConfig,
    Verifier,
    parse_hostport,
    phone_verify,
)


class Command(BaseCommand):
    help = (
        "Verify an e-mail address (syntax, DNS, SMTP probe) and/or a phone number. "
        "With --nameserver, MX hosts may resolve to loopback (sandbox / local test worlds)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email")
        parser.add_argument("--phone")
        parser.add_argument("--country", help="ISO 3166 alpha-2 the phone number is written for")
        parser.add_argument("--nameserver", help="HOST:PORT of the DNS server to ask")
        parser.add_argument("--smtp-port", type=int, help="SMTP port of the MX hosts (25)")
        parser.add_argument("--timeout", type=float, help="seconds per SMTP reply (default 30)")

    def handle(self, *args, **opts) -> None:
        if not opts["email"] and not opts["phone"]:
            raise CommandError("give --email ADDR and/or --phone NUM")
        overrides = {}
        if opts["nameserver"]:
            try:
                overrides["nameserver"] = parse_hostport(opts["nameserver"])
            except ValueError as exc:
                raise CommandError(f"--nameserver: {exc}") from exc
        if opts["smtp_port"]:
            overrides["smtp_port"] = opts["smtp_port"]
        config = VerificationConfig.from_settings(**overrides)
        if opts["timeout"]:
            t = opts["timeout"]
            config = replace(
                config, timeouts=Timeouts(dns=min(t, 5.0), smtp_connect=t, smtp_command=t)
            )

        result: dict = {}
        if opts["email"]:

            async def run():
                verifier = Verifier(config)
                try:
                    return await verifier.verify_email(opts["email"])
                finally:
                    verifier.close()

            result = asyncio.run(run()).as_dict()
        if opts["phone"]:
            phone = phone_verify(opts["phone"], country=opts["country"]).as_dict()
            if result:
                result["phone"] = phone
            else:
                result = {**phone, "flags": [], "evidence": {"source": "command line"}}
        self.stdout.write(json.dumps(result, ensure_ascii=False, sort_keys=False))
