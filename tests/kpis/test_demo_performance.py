"""The demo frameworks and returns go through the real template, checks and review."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import func, select

from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.demo import load_demo_performance, quarter_states
from monitor.kpis.models import OutcomeScore, Return, ReturnValue, ReturnVersion

AS_AT = date(2014, 5, 6)


def test_demo_returns_cover_2013_14(demo: Flask) -> None:
    summary = load_demo_performance(db, AS_AT)
    assert "8 frameworks" in summary
    states = quarter_states(db.session())
    assert states[("HBC-CYP-DA-01", "2013-14-Q3")] == "accepted"
    assert states[("HBC-CYP-DA-01", "2013-14-Q4")] == "submitted"
    assert states[("TRI-VAWG-01", "2013-14-Q4")] == "queried"
    assert ("LBBD-DV-005", "2013-14-Q4") not in states  # left late on purpose
    assert ("LBBD-DV-003", "2013-14-Q1") not in states  # decommissioned before 2013/14
    assert ("HBC-CYP-DA-01", "2013-14-Q2") not in states  # the service started in November 2013

    halton_scores = db.session.scalars(
        select(OutcomeScore.measure)
        .join(ReturnVersion)
        .join(Return)
        .join(Contract)
        .where(Contract.reference == "HBC-CYP-DA-01")
    ).all()
    assert {"SDQ", "WEMWBS"} <= set(halton_scores)
    # Derived outcome KPIs are stored as figures beside the typed ones.
    assert db.session.scalar(
        select(func.count(ReturnValue.id))
        .join(ReturnValue.kpi)
        .where(ReturnValue.kpi.has(code="SDQ-IMPROVED"))
    )


def test_demo_performance_is_idempotent(demo: Flask) -> None:
    load_demo_performance(db, AS_AT)
    versions = db.session.scalar(select(func.count(ReturnVersion.id)))
    again = load_demo_performance(db, AS_AT)
    assert again == "0 KPIs, 0 frameworks, 0 returns added"
    db.session.remove()
    assert db.session.scalar(select(func.count(ReturnVersion.id))) == versions
