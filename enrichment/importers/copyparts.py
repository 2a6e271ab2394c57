"""Loading one CSV stream with several COPY commands at once (PostgreSQL).

One COPY parses on one core; the file is cut into chunks at record boundaries and the chunks
go round-robin to ``parts`` connections, each copying into its own UNLOGGED table (created in
that connection's transaction, so COPY may FREEZE the rows), committed when every part has
succeeded. The tables are then visible to the importing transaction (READ COMMITTED), which
drops them when it is done; ``drop_tables`` is the clean-up for a failure.

A record boundary is a newline outside quotes: a newline preceded by an even number of quote
characters since the start of the stream (CSV doubles the quotes inside a quoted field).
Newlines are single bytes in every encoding the fast path accepts (UTF-8, Latin-1, CP1252,
Latin-9), so a chunk never ends inside a character.

Each part's ``line`` identity counts its own rows; ``line_expr`` maps it to the record's
position in the whole file from the chunks' row counts.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import IO

import psycopg
from django.db import connection

CHUNK_BYTES = 4 << 20


@dataclass
class Part:
    table: str
    # (chunk number, first identity value in this table, rows) in the order copied
    chunks: list[tuple[int, int, int]] = field(default_factory=list)
    error: BaseException | None = None


def side_connection() -> psycopg.Connection:
    """A new connection to the database Django uses (same parameters, its own session)."""
    params = connection.get_connection_params()
    keep = ("dbname", "user", "password", "host", "port", "sslmode", "options", "client_encoding")
    return psycopg.connect(**{k: v for k, v in params.items() if k in keep})


def copy_parts(
    stream: IO[bytes],
    *,
    tables: list[str],
    columns: list[str],
    options: str,
    chunk_bytes: int = CHUNK_BYTES,
) -> list[Part]:
    """COPY ``stream`` (CSV with a header line) into ``tables``, one connection each.

    ``options``: COPY options besides FORMAT, HEADER and FREEZE. Raises the first part's error
    (psycopg.DataError for a row COPY refuses); tables of parts that committed are left for
    ``drop_tables``."""
    col_list = ", ".join(columns)
    col_defs = ", ".join(f"{c} text" for c in columns)
    parts = [Part(table=t) for t in tables]
    queues: list[queue.Queue] = [queue.Queue(maxsize=3) for _ in tables]
    failed = threading.Event()

    def write(part: Part, q: queue.Queue) -> None:
        try:
            with side_connection() as conn, conn.cursor() as cur:
                cur.execute(
                    f"CREATE UNLOGGED TABLE {part.table} ({col_defs}, "
                    "line bigint GENERATED ALWAYS AS IDENTITY)"
                )
                copied = 0
                while (item := q.get()) is not None:
                    number, data, header = item
                    with cur.copy(
                        f"COPY {part.table} ({col_list}) FROM STDIN WITH (FORMAT csv, "
                        f"HEADER {'true' if header else 'false'}, FREEZE true, {options})"
                    ) as copy:
                        copy.write(data)
                    rows = max(cur.rowcount, 0)
                    part.chunks.append((number, copied + 1, rows))
                    copied += rows
                    if failed.is_set():
                        raise RuntimeError("another COPY part failed")
                conn.commit()
        except BaseException as exc:  # reported to the caller below
            part.error = exc
            failed.set()
            while q.get() is not None:  # let the reader finish
                pass

    threads = [
        threading.Thread(target=write, args=(p, q), daemon=True)
        for p, q in zip(parts, queues, strict=True)
    ]
    for t in threads:
        t.start()
    try:
        number, quotes, carry = 0, 0, b""
        while not failed.is_set():
            block = stream.read(chunk_bytes)
            data = carry + block
            if not block:
                if data:
                    queues[number % len(parts)].put((number, data, number == 0))
                break
            cut, quotes_cut = _boundary(data, quotes)
            if cut == 0:  # no record ends in this block: read on
                carry = data
                continue
            queues[number % len(parts)].put((number, data[:cut], number == 0))
            number += 1
            carry, quotes = data[cut:], quotes_cut
    finally:
        for q in queues:
            q.put(None)
        for t in threads:
            t.join()
    for part in parts:
        if part.error is not None and not isinstance(part.error, RuntimeError):
            raise part.error
    return parts


def _boundary(data: bytes, quotes: int) -> tuple[int, int]:
    """The end (exclusive) of the last complete record in ``data`` and the quote count up to
    there, given ``quotes`` quote characters before ``data``; (0, quotes) when none ends."""
    end = len(data)
    while (pos := data.rfind(b"\n", 0, end)) >= 0:
        before = quotes + data.count(b'"', 0, pos)
        if before % 2 == 0:
            return pos + 1, before
        end = pos
    return 0, quotes


def line_expr(part: Part, chunks: list[int], alias: str = "r") -> str:
    """SQL: the record's number in the whole file (1 = the first row after the header) from a
    row's identity in ``part``. ``chunks``: every chunk's row count, in file order."""
    before = [0]
    for rows in chunks:
        before.append(before[-1] + rows)
    chunks_with_rows = [c for c in part.chunks if c[2]]
    starts = [first for _, first, _ in chunks_with_rows]
    deltas = [before[number] - first + 1 for number, first, _ in chunks_with_rows]
    if not starts:
        return f"{alias}.line"
    if len(starts) == 1:
        return f"{alias}.line + {deltas[0]}"
    return (
        f"{alias}.line + ('{{{','.join(map(str, deltas))}}}'::bigint[])"
        f"[width_bucket({alias}.line, '{{{','.join(map(str, starts))}}}'::bigint[])]"
    )


def chunk_rows(parts: list[Part]) -> list[int]:
    """Every chunk's row count, in file order."""
    rows = {number: n for part in parts for number, _, n in part.chunks}
    return [rows[i] for i in range(len(rows))]


def drop_tables(tables: list[str]) -> None:
    """Drop staging tables committed by the parts (after a failure: the importing
    transaction may be aborted, so this uses its own connection)."""
    with side_connection() as conn:
        for table in tables:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.commit()
