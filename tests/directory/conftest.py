"""A small generated world shared by the directory tests (generated once per session)."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest

from sandbox.world import world_generate

SEED = 11
COMPANIES = 1500


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world")
    world_generate(seed=SEED, companies=COMPANIES, out=out)
    return out


@pytest.fixture(scope="session")
def world_next(tmp_path_factory) -> Path:
    """The same world one month later: a few companies changed, a few new."""
    out = tmp_path_factory.mktemp("world_next")
    world_generate(seed=SEED, companies=COMPANIES, out=out, revision=1)
    return out


def world_file(world: Path, source: str) -> Path:
    files = json.loads((world / "world.json").read_text())["files"]
    return world / next(f["path"] for f in files if f["source"] == source)


def read_member(path: Path) -> bytes:
    """The decompressed bytes of a generated file (small test worlds only)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.read(zf.infolist()[0])
    return data


def domains(world: Path) -> list[dict]:
    with (world / "internet" / "domains.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]
