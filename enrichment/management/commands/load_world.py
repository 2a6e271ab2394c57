"""Import every registry file of a generated world (DIR/world.json), companies before roles."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from enrichment.importers import IMPORT_ORDER, registry_import


class Command(BaseCommand):
    help = "Import all registry files written by generate_world, in dependency order."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dir", type=Path)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts) -> None:
        world = opts["dir"] / "world.json"
        if not world.is_file():
            raise CommandError(f"{world}: not a generated world (world.json missing)")
        files = {
            f["source"]: opts["dir"] / f["path"] for f in json.loads(world.read_text())["files"]
        }
        for source in IMPORT_ORDER:
            if source not in files:
                continue
            result = registry_import(
                source=source, path=files[source], progress=False if opts["no_progress"] else None
            )
            self.stdout.write(json.dumps(result.summary(), ensure_ascii=False))
