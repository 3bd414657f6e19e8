"""What Superset's database connection may read: the marts and nothing else.

Superset is a second line of defence, never the first: even SQL that got
past its checks must find no facts, dimensions or contract-viewer bridge.

- **PostgreSQL:** a login role of its own per database
  (`<database>_superset_reader`, so `monitor_superset_reader` for a database
  called `monitor`), with a new random password each time Superset is
  provisioned. It may use schema `warehouse` and SELECT the mart tables,
  nothing more: no other table there, no write, no default privileges.
  The ETL grants again after each run, so a mart it had to re-create is
  readable again.
- **SQLite:** a file holding copies of the marts alone, beside the
  warehouse (`demo.warehouse.sqlite3` -> `demo.warehouse.marts.sqlite3`),
  written after every ETL run to a temporary file and moved into place, so
  Superset never opens a half-written one.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.schema import CreateIndex, CreateTable

from etl.schema import MARTS, WAREHOUSE_SCHEMA

ROLE_SUFFIX = "_superset_reader"
# PostgreSQL's longest name.
NAME_LIMIT = 63


def reader_role(warehouse_url: str) -> str:
    """The read-only role's name for a PostgreSQL warehouse."""
    database = make_url(warehouse_url).database or "monitor"
    safe = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in database.lower())
    return safe[: NAME_LIMIT - len(ROLE_SUFFIX)] + ROLE_SUFFIX


def has_marts_file(warehouse_url: str) -> bool:
    """Whether Superset reads this warehouse through a marts file: a SQLite file, not memory."""
    url = make_url(warehouse_url)
    return url.get_backend_name() == "sqlite" and bool(url.database) and url.database != ":memory:"


def marts_path(warehouse_url: str) -> Path:
    """The SQLite file Superset reads: the warehouse file's name with `.marts` before its suffix."""
    url = make_url(warehouse_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ValueError(f"not a SQLite warehouse file: {url.render_as_string(hide_password=True)}")
    path = Path(url.database)
    return path.with_name(path.stem + ".marts" + path.suffix)


def write_marts_file(warehouse_url: str) -> Path:
    """Copy the marts of a SQLite warehouse into their own file, atomically:
    written to a temporary file in one transaction (one consistent read of
    the warehouse), then moved over the old one."""
    target = marts_path(warehouse_url)
    source = Path(make_url(warehouse_url).database or "")
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    dialect = sqlite.dialect()
    connection = sqlite3.connect(temporary, isolation_level=None)
    try:
        connection.execute("ATTACH DATABASE ? AS warehouse", (str(source),))
        connection.execute("BEGIN")
        for table in MARTS:
            connection.execute(str(CreateTable(table).compile(dialect=dialect)))
            for index in table.indexes:
                connection.execute(str(CreateIndex(index).compile(dialect=dialect)))
            columns = ", ".join(f'"{column.name}"' for column in table.columns)
            connection.execute(
                f'INSERT INTO main."{table.name}" ({columns}) SELECT {columns} FROM warehouse."{table.name}"'  # noqa: S608 - names from etl.schema
            )
        connection.execute("COMMIT")
        connection.execute("DETACH DATABASE warehouse")
    except BaseException:
        connection.close()
        temporary.unlink(missing_ok=True)
        raise
    connection.close()
    os.replace(temporary, target)
    return target


def ensure_reader(warehouse_url: str) -> str:
    """Create or update the read-only role of a PostgreSQL warehouse, with a
    new password, and return the URL Superset should connect with."""
    role = reader_role(warehouse_url)
    password = secrets.token_urlsafe(32)
    engine = create_engine(warehouse_url)
    try:
        with engine.begin() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role})
            if not exists:
                connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            # The password is random and URL-safe, so it needs no escaping; ALTER
            # ROLE takes no bind parameters.
            connection.execute(
                text(
                    f'ALTER ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
                    f"NOBYPASSRLS NOINHERIT PASSWORD '{password}'"
                )
            )
            grant_reader(connection, role)
    finally:
        engine.dispose()
    url: URL = make_url(warehouse_url).set(username=role, password=password)
    return url.render_as_string(hide_password=False)


def grant_reader(connection: Connection, role: str) -> None:
    """USAGE on the warehouse schema and SELECT on each mart, and nothing else
    in the warehouse (what an older release granted is taken back)."""
    if not connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}):
        return
    schema = WAREHOUSE_SCHEMA
    connection.execute(text(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM "{role}"'))
    connection.execute(text(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM "{role}"'))
    connection.execute(text(f'REVOKE ALL ON SCHEMA "{schema}" FROM "{role}"'))
    connection.execute(
        text(f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" REVOKE ALL ON TABLES FROM "{role}"')
    )
    connection.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
    for table in MARTS:
        connection.execute(text(f'GRANT SELECT ON "{schema}"."{table.name}" TO "{role}"'))
