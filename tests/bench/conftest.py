"""What the bench smoke tests share: the bench databases they must leave behind them none of."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_SERVER


def bench_databases() -> set[str]:
    """The names of the databases the benches create (and must drop) on the local server."""
    engine = create_engine(POSTGRES_SERVER)
    try:
        with engine.connect() as connection:
            return set(
                connection.scalars(
                    text("SELECT datname FROM pg_database WHERE datname LIKE 'monitor_bench_etl_%'")
                )
            )
    finally:
        engine.dispose()
