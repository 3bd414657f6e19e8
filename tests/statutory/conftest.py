"""Fixtures for the statutory return: the demo's returns, with LBBD's
safe-accommodation contracts flagged for 2013/14 by the demo's seed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.conftest import build_warehouse


@pytest.fixture
def returns_app(warehouse_app: Flask) -> Iterator[Flask]:
    """The demo as at 6 May 2014 with its 2013/14 returns; LBBD-DV-002 and
    LBBD-DV-005 count as safe accommodation (monitor/statutory/demo.py)."""
    built = build_warehouse(warehouse_app)
    yield warehouse_app
    built.engine.dispose()
