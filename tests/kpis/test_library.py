from flask import Flask
from sqlalchemy import func, select

from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.framework.history import items_in_force
from monitor.kpis.library.definitions import STANDARD_KPIS, load_library
from monitor.kpis.models import Kpi
from monitor.kpis.periods import Quarter


def test_library_loads_once(library: Flask) -> None:
    assert db.session.scalar(select(func.count(Kpi.id))) == len(STANDARD_KPIS)
    with db.transaction() as session:
        assert load_library(session) == 0
    referrals = db.session.execute(select(Kpi).where(Kpi.code == "REF-RECEIVED")).scalar_one()
    assert [b.label for b in referrals.breakdowns][:3] == ["Police", "Children's social care", "MASH"]


def test_framework_in_force_by_quarter(frameworks: Flask) -> None:
    halton = db.session.execute(select(Contract.id).where(Contract.reference == "HBC-CYP-DA-01")).scalar_one()
    assert items_in_force(db.session(), halton, Quarter(2013, 2)) == []
    codes = {item.kpi.code for item in items_in_force(db.session(), halton, Quarter(2013, 3))}
    assert "SDQ-IMPROVED" in codes and "FEEL-SAFER" not in codes
