"""One truth beyond the demo: on a generated register of three areas and
their police force (bench/national.py, fixed seed), every board user (each
area's Health and Wellbeing Board, the force's partnership board, whose
rows overlap theirs) and every council commissioner sees on the performance
pages and through the API exactly the warehouse's rows for them. On SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bench.national import AS_AT, Generated, Shape, generate
from etl.app import ENGINE_KEY, run_for_app, warehouse_url
from monitor.access.viewers import organisation_key, partnership_key
from monitor.audit import Actor, acting_as
from monitor.auth.models import User
from monitor.auth.passwords import hash_password
from monitor.db import db
from monitor.demo import DEMO_PASSWORD
from monitor.kpis.library.definitions import load_library
from tests.conftest import Warehouse, _drop_warehouse, _fresh_app
from tests.kpis.test_board_performance import compare_surfaces

AREAS = 3


@pytest.fixture(scope="module")
def register(database_url: str) -> Iterator[tuple[Warehouse, Generated]]:
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


def _users(role: str) -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == role).order_by(User.email)))


def test_every_board_sees_its_warehouse_rows_on_every_surface(register: tuple[Warehouse, Generated]) -> None:
    warehouse, _generated = register
    with warehouse.app.app_context():
        boards = _users("board")
        assert len(boards) == AREAS + 1  # each area's board and the force's
        client = warehouse.app.test_client()
        hidden_anywhere = 0
        for user in boards:
            assert user.partnership_id is not None
            compared, hidden = compare_surfaces(
                warehouse, client, user.email, partnership_key(user.partnership_id)
            )
            assert compared > 100, user.email
            hidden_anywhere += hidden
        # Small services report small counts, so there is something hidden to compare.
        assert hidden_anywhere > 0


def test_every_council_sees_its_own_rows_exactly(register: tuple[Warehouse, Generated]) -> None:
    warehouse, _generated = register
    with warehouse.app.app_context():
        commissioners = _users("commissioner")
        assert len(commissioners) == AREAS
        client = warehouse.app.test_client()
        for user in commissioners:
            assert user.organisation_id is not None
            compared, hidden = compare_surfaces(
                warehouse, client, user.email, organisation_key(user.organisation_id)
            )
            assert compared > 100 and hidden == 0, user.email
