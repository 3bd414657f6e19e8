"""What Superset's connection reads: the marts and nothing else (etl/reader.py).

On SQLite, a file of the marts alone, rewritten after every run; on
PostgreSQL, a read-only role that may SELECT the marts and nothing more.
Each test tries to read what must stay out of reach: the facts, the
contract dimension, the contract-viewer bridge, the run log, the app's users.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from etl.app import run_for_app
from etl.reader import ensure_reader, marts_path, reader_role
from etl.schema import MARTS
from tests.conftest import Warehouse
from tests.etl.test_run import _change_funding

MART_NAMES = {table.name for table in MARTS}
OUT_OF_REACH = ["fact_funding", "fact_kpi_result", "dim_contract", "bridge_contract_viewer", "etl_run"]


def marts_file_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute(sql).fetchall()


def test_sqlite_superset_gets_a_file_of_the_marts_alone(warehouse: Warehouse) -> None:
    if warehouse.engine.dialect.name != "sqlite":
        pytest.skip("the marts file is for a SQLite warehouse; PostgreSQL has a read-only role")
    path = marts_path(warehouse.url)
    assert path.is_file() and path != Path(make_url(warehouse.url).database or "")
    tables = {
        name for (name,) in marts_file_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    assert tables == MART_NAMES
    for table in OUT_OF_REACH:
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            marts_file_rows(path, f"SELECT * FROM {table}")  # noqa: S608
    for table in MART_NAMES:
        (count,) = marts_file_rows(path, f"SELECT count(*) FROM {table}")[0]  # noqa: S608
        assert count == warehouse.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"], table  # noqa: S608
    assert not list(path.parent.glob(path.name + ".*.tmp"))


def test_sqlite_an_incremental_run_rewrites_the_marts_file(warehouse: Warehouse) -> None:
    if warehouse.engine.dialect.name != "sqlite":
        pytest.skip("the marts file is for a SQLite warehouse")
    path = marts_path(warehouse.url)
    sql = "SELECT sum(amount) FROM mart_funding WHERE contract_title IS NOT NULL"
    before = marts_file_rows(path, sql)
    old_inode = path.stat().st_ino
    with warehouse.app.app_context():
        _change_funding("LBBD-DV-002", Decimal("1000.00"))
        result = run_for_app()
    assert result.mode == "incremental"
    after = marts_file_rows(path, sql)
    assert after != before
    assert after == [tuple(warehouse.rows(sql.replace("sum(amount)", "sum(amount) AS s"))[0].values())]
    # Moved into place, not written over: a reader never sees half a file.
    assert path.stat().st_ino != old_inode
    path.unlink()
    with warehouse.app.app_context():
        assert run_for_app().message == "nothing changed"
    assert path.is_file(), "a run with nothing to do writes a missing marts file"


@pytest.fixture
def reader(warehouse: Warehouse) -> Iterator[str]:
    """The read-only role's URL, and the role dropped afterwards (roles outlive databases)."""
    if warehouse.engine.dialect.name != "postgresql":
        pytest.skip("the read-only role is for a PostgreSQL warehouse; SQLite has the marts file")
    url = ensure_reader(warehouse.url)
    yield url
    role = reader_role(warehouse.url)
    admin = create_engine(warehouse.url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP OWNED BY "{role}"'))
        connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    admin.dispose()


def test_postgresql_superset_reads_as_a_role_that_sees_only_the_marts(
    warehouse: Warehouse, reader: str
) -> None:
    # Trust authentication on the test server: the role's own name is what counts here.
    engine = create_engine(make_url(reader).set(password=None))
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT current_user")) == reader_role(warehouse.url)
            for table in MART_NAMES:
                assert connection.scalar(text(f"SELECT count(*) FROM warehouse.{table}")) > 0, table  # noqa: S608
        for sql in [
            *(f"SELECT * FROM warehouse.{table} LIMIT 1" for table in OUT_OF_REACH),  # noqa: S608
            "SELECT * FROM public.users LIMIT 1",
            "INSERT INTO warehouse.mart_funding (viewer) VALUES ('x')",
            "DELETE FROM warehouse.mart_renewals",
            "CREATE TABLE warehouse.stolen (x int)",
            "CREATE TABLE public.stolen (x int)",
        ]:
            with engine.connect() as connection, pytest.raises(ProgrammingError, match="permission denied"):
                connection.execute(text(sql))
    finally:
        engine.dispose()


def test_postgresql_the_role_is_the_same_after_setting_up_again_and_a_full_run(
    warehouse: Warehouse, reader: str
) -> None:
    again = ensure_reader(warehouse.url)
    assert make_url(again).username == make_url(reader).username
    assert make_url(again).password != make_url(reader).password, "a new password each time"
    with warehouse.app.app_context():
        run_for_app(full=True)
    engine = create_engine(make_url(again).set(password=None))
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM warehouse.mart_funding")) > 0
        with engine.connect() as connection, pytest.raises(ProgrammingError, match="permission denied"):
            connection.execute(text("SELECT * FROM warehouse.fact_funding LIMIT 1"))
    finally:
        engine.dispose()
