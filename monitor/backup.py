"""Backups: a safe copy of a SQLite database, and the check that a restored
database holds what its source held.

One home for the comparison: `flask backup verify` and the restore drill
(`tests/test_backup_restore.py`) both call `verify_restore`. It compares
every table's row count, in every schema the source has (the app's tables
and, on PostgreSQL, the warehouse's), and every stored return file: the
SHA-256 of the restored bytes must equal the version's stored `sha256` and
the source's. docs/backup.md is the procedure around it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, LargeBinary, cast, create_engine, func, inspect, select, table
from sqlalchemy.engine import make_url

from monitor.formatting import count_text
from monitor.kpis.models import ReturnVersion

# PostgreSQL's own schemas; every other schema (public, warehouse) is compared.
_SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast"})


class BackupError(Exception):
    """A backup or a check could not be made; the message says why."""


@dataclass(frozen=True)
class Difference:
    """Where the restored database differs from its source (a table or a
    return version), and how."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class Verification:
    tables: int = 0
    rows: int = 0
    files: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        counted = (
            f"{count_text(self.tables, 'table')}, {count_text(self.rows, 'row')}, "
            f"{count_text(self.files, 'return file')} checked by SHA-256"
        )
        if self.matches:
            return f"backup verify: the restored database matches its source ({counted})"
        count = len(self.differences)
        return f"backup verify: {count_text(count, 'difference')} ({counted})"


@dataclass(frozen=True)
class _File:
    label: str
    stored: str  # the version's sha256 column
    actual: str  # the SHA-256 of its bytes, computed now


def verify_restore(source_url: str, restored_url: str) -> Verification:
    """Compare the database at `restored_url` with the one at `source_url`."""
    with _reading(source_url) as source, _reading(restored_url) as restored:
        source_counts, restored_counts = _table_counts(source), _table_counts(restored)
        result = Verification(tables=len(source_counts), rows=sum(source_counts.values()))
        result.differences += _compare_counts(source_counts, restored_counts)
        if _VERSIONS in source_counts:
            source_files = _files(source)
            restored_files = _files(restored) if _VERSIONS in restored_counts else {}
            result.files = len(source_files)
            result.differences += _compare_files(source_files, restored_files)
    return result


_VERSIONS = ReturnVersion.__tablename__


@contextmanager
def _reading(url: str) -> Iterator[Connection]:
    """One read transaction; on PostgreSQL a snapshot, so every count and file
    read comes from the same moment even while the source takes writes."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        # Opening a missing file would create an empty database and report
        # every table as missing: say what is wrong instead.
        if path in ("", ":memory:") or not Path(path).is_file():
            raise BackupError(f"there is no SQLite database at {path or url!r}")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection
    finally:
        engine.dispose()


def _table_counts(connection: Connection) -> dict[str, int]:
    """Rows in every table, keyed `name` in the default schema and
    `schema.name` elsewhere (e.g. `warehouse.fact_funding`)."""
    inspector = inspect(connection)
    if connection.dialect.name == "postgresql":
        schemas: list[str | None] = [
            s for s in inspector.get_schema_names() if s not in _SYSTEM_SCHEMAS and not s.startswith("pg_")
        ]
    else:
        schemas = [None]
    counts: dict[str, int] = {}
    for schema in schemas:
        for name in inspector.get_table_names(schema=schema):
            key = name if schema in (None, "public") else f"{schema}.{name}"
            counts[key] = connection.scalar(select(func.count()).select_from(table(name, schema=schema))) or 0
    return counts


def _compare_counts(source: dict[str, int], restored: dict[str, int]) -> list[Difference]:
    differences = []
    for name in sorted(source.keys() | restored.keys()):
        before, after = source.get(name), restored.get(name)
        if after is None:
            what = f"in the source ({before:,} rows) but not in the restored database"
        elif before is None:
            what = f"in the restored database ({after:,} rows) but not in the source"
        elif before != after:
            what = f"{before:,} rows in the source, {after:,} in the restored database"
        else:
            continue
        differences.append(Difference(f"table {name}", what))
    return differences


def _files(connection: Connection) -> dict[int, _File]:
    """Each return version's stored sha256 and the SHA-256 of its bytes,
    read a batch at a time so a large register never sits in memory."""
    query = select(
        ReturnVersion.id,
        ReturnVersion.return_id,
        ReturnVersion.number,
        ReturnVersion.filename,
        ReturnVersion.sha256,
        # As bytes whatever SQLite's storage class: a file damaged into TEXT
        # is then a wrong SHA-256 to report, not a decoding error.
        cast(ReturnVersion.content, LargeBinary).label("content"),
    ).order_by(ReturnVersion.id)
    files = {}
    for row in connection.execution_options(yield_per=100).execute(query):
        files[row.id] = _File(
            label=f"return {row.return_id} version {row.number}, {row.filename}",
            stored=row.sha256,
            actual=hashlib.sha256(row.content).hexdigest(),
        )
    return files


def _compare_files(source: dict[int, _File], restored: dict[int, _File]) -> list[Difference]:
    differences = []
    for version_id in sorted(source.keys() | restored.keys()):
        before, after = source.get(version_id), restored.get(version_id)
        known = before if before is not None else after
        assert known is not None  # the id came from one of them
        where = f"return version {version_id} ({known.label})"
        problems = []
        if after is None:
            problems.append("in the source but not in the restored database")
        elif before is None:
            problems.append("in the restored database but not in the source")
        else:
            if after.actual != after.stored:
                problems.append(
                    f"the restored file's SHA-256 is {after.actual}, not the stored {after.stored}"
                )
            if after.actual != before.actual:
                problems.append(f"the restored file differs from the source's (SHA-256 {before.actual})")
            elif after.stored != before.stored:
                problems.append(f"the stored sha256 differs from the source's ({before.stored})")
            if before.actual != before.stored:
                # The source itself is damaged: a restore cannot be better than it.
                problems.append(f"in the source too the file's SHA-256 {before.actual} is not the stored one")
        if problems:
            differences.append(Difference(where, "; ".join(problems)))
    return differences


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database with SQLite's online backup API: a consistent
    copy even while the app writes, which copying the file (and its -wal)
    is not. The copy is written beside `target` and moved into place, so a
    failed copy never looks like a finished one."""
    if not source.is_file():
        raise BackupError(f"there is no SQLite database at {source}")
    if target.exists():
        raise BackupError(f"{target} already exists; give each backup a new name")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    reader = sqlite3.connect(source)
    try:
        writer = sqlite3.connect(partial)
        try:
            reader.backup(writer)
        finally:
            writer.close()
        os.replace(partial, target)
    finally:
        reader.close()
        partial.unlink(missing_ok=True)
