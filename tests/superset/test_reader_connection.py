"""Superset's database connection reaches the marts and nothing else.

The connection is read back from Superset (as its admin) and used as
Superset would use it: the marts answer; the facts, the contract dimension,
the contract-viewer bridge and the run log are not there to be read, so SQL
that got past every other check would still find nothing behind the marts.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from etl.reader import marts_path, reader_role
from etl.schema import MARTS
from monitor.superset.bundle import DATABASE_UUID
from tests.superset.conftest import ProvisionedSuperset

OUT_OF_REACH = ["fact_funding", "fact_kpi_result", "dim_contract", "bridge_contract_viewer", "etl_run"]


def superset_connection(superset: ProvisionedSuperset) -> dict[str, Any]:
    databases = superset.client.get("/api/v1/database/?q=(page_size:10)")["result"]
    (database,) = [d for d in databases if d["uuid"] == DATABASE_UUID]
    detail: dict[str, Any] = superset.client.get(f"/api/v1/database/{database['id']}/connection")["result"]
    return detail


def test_superset_reads_the_marts_and_nothing_else(provisioned_superset: ProvisionedSuperset) -> None:
    superset = provisioned_superset
    url = make_url(superset_connection(superset)["sqlalchemy_uri"])
    if superset.backend == "sqlite":
        assert url.database == str(marts_path(superset.warehouse.url))
        with sqlite3.connect(f"file:{url.database}?mode=ro", uri=True) as connection:
            for table in MARTS:
                assert connection.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0] > 0  # noqa: S608
            for name in OUT_OF_REACH:
                with pytest.raises(sqlite3.OperationalError, match="no such table"):
                    connection.execute(f"SELECT * FROM {name}")  # noqa: S608
        return
    assert url.username == reader_role(superset.warehouse.url)
    warehouse = make_url(superset.warehouse.url)
    assert (url.host, url.port, url.database) == (warehouse.host, warehouse.port, warehouse.database)
    # The stored password is masked; the test server trusts local connections,
    # so the role's name is what decides here.
    engine = create_engine(warehouse.set(username=url.username, password=None))
    try:
        with engine.connect() as connection:
            for table in MARTS:
                assert connection.scalar(text(f"SELECT count(*) FROM warehouse.{table.name}")) > 0  # noqa: S608
        for name in OUT_OF_REACH:
            with engine.connect() as connection, pytest.raises(ProgrammingError, match="permission denied"):
                connection.execute(text(f"SELECT * FROM warehouse.{name} LIMIT 1"))  # noqa: S608
    finally:
        engine.dispose()
