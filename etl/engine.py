"""Where the warehouse lives and how to reach it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from etl.schema import WAREHOUSE_SCHEMA, metadata


class WarehouseUnavailable(Exception):
    """The app's database has no warehouse beside it, or it cannot be reached."""


def warehouse_url_for(database_url: str, warehouse_url: str = "") -> str:
    """The warehouse's URL: the setting if given; else the app database itself
    on PostgreSQL (schema `warehouse`), or a SQLite file beside the app's."""
    if warehouse_url:
        return warehouse_url
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return database_url
    if not url.database or url.database == ":memory:":
        raise ValueError("an in-memory app database has no warehouse file; set WAREHOUSE_URL")
    path = Path(url.database)
    return str(url.set(database=str(path.with_name(path.stem + ".warehouse" + path.suffix))))


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def warehouse_engine(url: str) -> Engine:
    """An engine whose unqualified warehouse tables land in schema `warehouse`
    on PostgreSQL and in the main database of a SQLite file."""
    if url.startswith("sqlite"):
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):
            # WAL lets Superset read while a run writes; the run is one transaction.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")

        return engine
    return create_engine(url, pool_pre_ping=True).execution_options(
        schema_translate_map={None: WAREHOUSE_SCHEMA}
    )


def create_warehouse(engine: Engine) -> bool:
    """Create the schema and the tables. The warehouse needs no migrations:
    a table whose columns differ from `etl.schema` (an older release) is
    dropped and created again, and the caller rebuilds everything. Returns
    whether any table was new or replaced."""
    schema = WAREHOUSE_SCHEMA if is_postgresql(engine) else None
    with engine.begin() as connection:
        if schema:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        inspector = inspect(connection)
        existing = set(inspector.get_table_names(schema=schema))
        stale = [
            table
            for table in metadata.sorted_tables
            if table.name in existing
            and {c["name"] for c in inspector.get_columns(table.name, schema=schema)}
            != set(table.columns.keys())
        ]
        for table in stale:
            table.drop(connection)
        metadata.create_all(connection)
        if schema:
            # A mart's viewer_name always goes with its viewer: without this the
            # planner multiplies their selectivities and expects a few rows
            # where a board's charts read thousands.
            for table in metadata.sorted_tables:
                if {"viewer", "viewer_name"} <= set(table.columns.keys()):
                    connection.execute(
                        text(
                            f'CREATE STATISTICS IF NOT EXISTS "{schema}"."{table.name}_viewer" (dependencies) '
                            f'ON viewer, viewer_name FROM "{schema}"."{table.name}"'
                        )
                    )
    return bool(stale) or any(table.name not in existing for table in metadata.sorted_tables)
