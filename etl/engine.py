"""Where the warehouse lives and how to reach it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from etl.schema import WAREHOUSE_SCHEMA, metadata


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


def create_warehouse(engine: Engine) -> None:
    """Create the schema and any missing table (the warehouse is rebuilt by
    the ETL, so it needs no migrations: `flask etl run --full` after a change)."""
    with engine.begin() as connection:
        if is_postgresql(engine):
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{WAREHOUSE_SCHEMA}"'))
        metadata.create_all(connection)
