"""Write a deterministic synthetic world: registry bulk files + the internet manifest."""

import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from sandbox.world import world_generate


class Command(BaseCommand):
    help = "Write registry bulk files and DIR/internet/domains.jsonl from a seed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--companies", type=int, default=1000)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument(
            "--revision",
            type=int,
            default=0,
            help="apply N months of deterministic registry changes",
        )
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
        parser.add_argument(
            "--plain",
            action="store_true",
            help="write uncompressed files instead of the real zip/gz containers",
        )

    def handle(self, *args, **opts) -> None:
        kwargs = {}
        if opts["as_of"]:
            kwargs["as_of"] = opts["as_of"]
        summary = world_generate(
            seed=opts["seed"],
            companies=opts["companies"],
            out=opts["out"],
            revision=opts["revision"],
            compress=not opts["plain"],
            **kwargs,
        )
        self.stdout.write(json.dumps(summary.to_json()))
