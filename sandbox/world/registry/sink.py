"""Deterministic output files (plain, .gz, single-member .zip) and date/etag helpers."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import zipfile
from pathlib import Path
from typing import IO

ZIP_TIME = (2026, 1, 1, 0, 0, 0)


class Sink:
    """A text stream into a plain, .gz or single-member .zip file, written deterministically."""

    def __init__(
        self,
        path: Path,
        *,
        member: str | None = None,
        encoding: str = "utf-8",
        container: str = "plain",
    ) -> None:
        self.path = path
        self._raw = path.open("wb")
        self._zip: zipfile.ZipFile | None = None
        inner: IO[bytes]
        if container == "zip":
            self._zip = zipfile.ZipFile(
                self._raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
            )
            info = zipfile.ZipInfo(member or path.stem, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            inner = self._zip.open(info, "w", force_zip64=True)
        elif container == "gz":
            inner = gzip.GzipFile(
                filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=1
            )
        else:
            inner = self._raw
        self._inner = inner
        self.text = io.TextIOWrapper(inner, encoding=encoding, newline="", write_through=False)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()
        if self._inner is not self._raw:
            self._inner.close()
        if self._zip is not None:
            self._zip.close()
        self._raw.close()


def dmy(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def iso(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def etag_for(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()
