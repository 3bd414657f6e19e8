"""One warehouse for the whole reports package: building it (the demo, a year
of returns and a full ETL run) is the slow part, and these tests only read it.

Nothing in this package may use the function-scoped `app` or `demo`
fixtures: they empty the database this warehouse was built from.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from etl.app import ENGINE_KEY
from tests.conftest import WAREHOUSE_AS_AT, Warehouse, _fresh_app, build_warehouse


def dispose_pack_engine(app: Flask) -> None:
    """Close the warehouse connections the pack code pooled for this app."""
    engine = app.extensions.pop(ENGINE_KEY, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture(scope="package")
def board_warehouse(database_url: str) -> Iterator[Warehouse]:
    for app in _fresh_app(database_url, TODAY=WAREHOUSE_AS_AT, empty=False):
        built = build_warehouse(app)
        yield built
        dispose_pack_engine(app)
        built.engine.dispose()
