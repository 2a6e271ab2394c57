"""Phase 7, bulk load: a first large import sets the tables' indexes and constraints aside and
rebuilds them once after the insert, the way pg_restore does (PostgreSQL only)."""

from __future__ import annotations


class BulkLoad:
    """A bulk load into PostgreSQL tables, the way pg_restore does it: take an exclusive lock,
    set aside secondary indexes, unique constraints, foreign keys and primary keys that no
    foreign key references, insert, then rebuild them
    from their own catalogue definitions (one sort per index, one validating join per foreign
    key) inside the same transaction. Used when an import adds at least half as many rows as a
    table holds; smaller imports insert through the indexes."""

    def __init__(self, cursor, tables: tuple[str, ...]) -> None:
        self.cursor, self.tables = cursor, tables
        self.constraints: list[tuple[str, str, str]] = []
        self.indexes: list[tuple[str, str]] = []

    def begin(self) -> None:
        self.cursor.execute(f"LOCK TABLE {', '.join(self.tables)} IN ACCESS EXCLUSIVE MODE")

    def drop(self) -> None:
        cur = self.cursor
        # ALTER TABLE refuses while deferred foreign-key checks are queued: run them now.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in self.tables:
            # A primary key goes too when no foreign key references it: rows arrive in the
            # parallel pass's order, not in id order, and a million random inserts into its
            # index cost 3-4 s where one sorted build costs 0.5 s.
            cur.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint c "
                "WHERE conrelid = %s::regclass AND (contype IN ('u', 'f') OR contype = 'p' "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' "
                "AND r.confrelid = c.conrelid)) ORDER BY contype <> 'p', conname",
                [table],
            )
            self.constraints += [(table, name, definition) for name, definition in cur.fetchall()]
            cur.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
                "AND NOT x.indisprimary AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1",
                [table],
            )
            self.indexes += list(cur.fetchall())
        for table, name, _ in self.constraints:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in self.indexes:
            cur.execute(f'DROP INDEX "{name}"')

    def restore_one(self, table: str, definition: str) -> None:
        """Rebuild one set-aside constraint now (an error here says what the data breaks)."""
        for item in self.constraints:
            if item[0] == table and item[2] == definition:
                self.cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                self.cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{item[1]}" {definition}')
                self.constraints.remove(item)
                return
        raise LookupError(f"{table}: no set-aside constraint {definition}")

    def restore(self) -> None:
        cur = self.cursor
        # One sort per index in memory, with the parallel workers PostgreSQL allows (2 here).
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cur.execute("SET LOCAL max_parallel_maintenance_workers = 2")
        for _, definition in self.indexes:
            cur.execute(definition)
        for table, name, definition in self.constraints:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cur.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in self.tables:
            cur.execute(f"ANALYZE {table}")
