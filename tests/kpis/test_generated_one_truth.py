"""One truth beyond the demo: on a generated register of three areas and
their police force (bench/national.py, fixed seed), every board user (each
area's Health and Wellbeing Board, the force's partnership board, whose
rows overlap theirs) and every council commissioner sees on the performance
pages and through the API exactly the warehouse's rows for them. On SQLite
and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bench.national import Generated
from monitor.access.viewers import organisation_key, partnership_key
from monitor.auth.models import User
from monitor.db import db
from tests.conftest import Warehouse
from tests.kpis.test_board_performance import compare_surfaces
from tests.national_register import AREAS, generated_register

register = pytest.fixture(scope="module")(generated_register)


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
