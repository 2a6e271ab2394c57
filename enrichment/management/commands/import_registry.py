"""Import one registry bulk file; prints one closing JSON line with the row counts."""

import gzip
import json
import zipfile
from pathlib import Path

import ijson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from enrichment.importers import SOURCES, registry_import
from enrichment.importers.parsers import FileFormatError


class Command(BaseCommand):
    help = "Import a registry bulk file (plain, .zip or .gz) into the directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, choices=sorted(SOURCES))
        parser.add_argument("path", type=Path)
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--portable",
            action="store_true",
            help="use the portable Python path even on PostgreSQL",
        )
        parser.add_argument(
            "--allow-mass-dissolve",
            action="store_true",
            help="let a full snapshot mark more than a fifth of its source's companies dissolved "
            "(refused otherwise: that is what a file cut off at a line boundary looks like)",
        )

    def handle(self, *args, **opts) -> None:
        path: Path = opts["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            result = registry_import(
                source=opts["source"],
                path=path,
                progress=False if opts["no_progress"] else None,
                fast=not opts["portable"],
                allow_mass_dissolve=opts["allow_mass_dissolve"],
            )
        except FileFormatError as exc:
            raise CommandError(str(exc)) from exc
        # A cut-off download or a file that is not what its name says: the import rolled back
        # and its ImportRun says failed; the operator gets one line, not a traceback.
        except (EOFError, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
            raise CommandError(f"{path}: not a complete .gz or .zip file ({exc})") from exc
        except ijson.JSONError as exc:
            raise CommandError(f"{path}: not valid JSON ({exc})") from exc
        self.stdout.write(json.dumps(result.summary(), ensure_ascii=False))
