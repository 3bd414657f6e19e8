"""A generated register of three areas and their police force
(bench/national.py, fixed seed), loaded into the warehouse by a full run:
the test bed beyond the demo. A module-scoped fixture in each module that
uses it (`register = pytest.fixture(scope="module")(generated_register)`),
since other modules reset the same test database between them."""

from __future__ import annotations

from collections.abc import Iterator

from bench.national import AS_AT, Generated, Shape, generate
from etl.app import ENGINE_KEY, run_for_app, warehouse_url
from monitor.audit import Actor, acting_as
from monitor.auth.passwords import hash_password
from monitor.db import db
from monitor.demo import DEMO_PASSWORD
from monitor.kpis.library.definitions import load_library
from tests.conftest import Warehouse, _drop_warehouse, _fresh_app

AREAS = 3


def generated_register(database_url: str) -> Iterator[tuple[Warehouse, Generated]]:
    for app in _fresh_app(database_url, TODAY=AS_AT.isoformat()):
        _drop_warehouse(warehouse_url(app))
        with acting_as(Actor(None, "tests")), db.transaction() as session:
            load_library(session)
        # Signed in as the demo's users are, with the demo's password.
        generated = generate(db.engine, Shape(AREAS), hash_password(DEMO_PASSWORD))
        db.session.remove()
        run_for_app(full=True)
        warehouse = Warehouse(app, warehouse_url(app))
        yield warehouse, generated
        engine = app.extensions.pop(ENGINE_KEY, None)
        if engine is not None:
            engine.dispose()
        warehouse.engine.dispose()
