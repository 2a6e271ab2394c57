"""Opening registry files: container by magic bytes (plain, gzip, zip), encoding detected from a
sample, and a byte counter that drives the progress bar. Nothing here reads a whole file."""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import charset_normalizer
from tqdm import tqdm

SAMPLE_BYTES = 256 * 1024
BUFFER_BYTES = 1 << 20


class _Counting(io.RawIOBase):
    """Wraps the file on disk; reports bytes read (compressed) to a tqdm bar."""

    def __init__(self, raw: IO[bytes], bar: tqdm | None) -> None:
        self.raw, self.bar = raw, bar

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def readinto(self, b) -> int:  # type: ignore[override]
        n = self.raw.readinto(b)
        if self.bar is not None and n:
            self.bar.update(n)
        return n or 0


@dataclass
class Opened:
    stream: io.BufferedReader  # decompressed bytes
    encoding: str  # Python codec name
    member: str  # file name inside a zip, else the file name


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def detect_encoding(sample: bytes) -> str:
    """The sample's encoding: a BOM, else strict UTF-8, else charset-normalizer's best guess."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    cut = sample
    # A sample may end inside a multi-byte character; drop up to three trailing bytes.
    for trim in range(4):
        try:
            (cut[: len(cut) - trim] if trim else cut).decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError as exc:
            if exc.start < len(cut) - 4:
                break
    best = charset_normalizer.from_bytes(sample[:65536]).best()
    if best is None:
        return "latin-1"
    name = best.encoding.lower().replace("-", "_")
    # Registry files are western European; single-byte guesses are folded to the usual family.
    if name in ("utf_8", "ascii"):
        return "utf-8"
    if name in ("cp1252", "windows_1252"):
        return "cp1252"
    if name.startswith(("latin", "iso8859", "cp125", "mac")):
        return "latin-1" if name != "iso8859_15" else "iso8859-15"
    return best.encoding


@contextmanager
def registry_open(path: Path, *, progress: bool | None = None) -> Iterator[Opened]:
    """Open ``path`` (plain, .gz or single-member .zip, recognised by magic bytes)."""
    path = Path(path)
    if progress is None:
        progress = sys.stderr.isatty()
    size = path.stat().st_size
    bar = tqdm(
        total=size, unit="B", unit_scale=True, desc=path.name, disable=not progress, file=sys.stderr
    )
    raw = path.open("rb")
    counting = _Counting(raw, bar)
    zf = None
    try:
        magic = raw.read(4)
        raw.seek(0)
        member = path.name
        if magic.startswith(b"PK\x03\x04"):
            zf = zipfile.ZipFile(io.BufferedReader(counting, BUFFER_BYTES))
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if not infos:
                raise ValueError(f"{path.name}: empty zip archive")
            info = max(infos, key=lambda i: i.file_size)
            member = info.filename
            inner: IO[bytes] = zf.open(info)
        elif magic.startswith(b"\x1f\x8b"):
            inner = gzip.GzipFile(fileobj=io.BufferedReader(counting, BUFFER_BYTES))
            member = path.name.removesuffix(".gz")
        else:
            inner = counting
        stream = io.BufferedReader(inner, BUFFER_BYTES)  # type: ignore[arg-type]
        sample = stream.peek(SAMPLE_BYTES)[:SAMPLE_BYTES]
        yield Opened(stream=stream, encoding=detect_encoding(sample), member=member)
    finally:
        if zf is not None:
            zf.close()
        raw.close()
        bar.close()


class _Text(io.TextIOWrapper):
    """NUL is no character of any registry's text, and PostgreSQL text cannot hold one (a single
    NUL failed the whole import): it reads as U+FFFD, like a byte the encoding cannot decode."""

    def __next__(self) -> str:
        return super().__next__().replace("\x00", "\ufffd")

    def readline(self, size: int = -1) -> str:
        return super().readline(size).replace("\x00", "\ufffd")


def text_lines(opened: Opened) -> io.TextIOWrapper:
    """A text view (newline='' so the csv module sees embedded newlines)."""
    return _Text(opened.stream, encoding=opened.encoding, errors="replace", newline="")
