"""The demo frameworks and returns go through the real template, checks and review."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Flask
from sqlalchemy import DateTime, func, select
from sqlalchemy.orm import selectinload

from monitor.audit import AuditEvent
from monitor.contracts.models import Contract
from monitor.db import Base, db
from monitor.kpis.demo import load_demo_performance, quarter_states
from monitor.kpis.library.relations import ReturnFigures, RuleKind, broken_rules
from monitor.kpis.library.rules import declared_rules
from monitor.kpis.models import OutcomeScore, Return, ReturnValue, ReturnVersion
from monitor.kpis.returns.ingest.result import FigureIn

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
    # Seeded as at 6 May 2014 (make demo), each return reads as sent around its due date and
    # reviewed after, in 2014 and not on the real clock's day.
    q4 = db.session.scalars(select(Return).where(Return.period == "2013-14-Q4")).all()
    for ret in q4:
        received = min(v.uploaded_at for v in ret.versions).date()
        assert ret.due_date - timedelta(days=9) <= received <= min(ret.due_date + timedelta(days=1), AS_AT)
        assert all(received <= e.at.date() <= AS_AT for e in ret.events)
    assert q4


def test_demo_performance_is_idempotent(demo: Flask) -> None:
    load_demo_performance(db, AS_AT)
    versions = db.session.scalar(select(func.count(ReturnVersion.id)))
    again = load_demo_performance(db, AS_AT)
    assert again == "0 KPIs, 0 frameworks, 0 returns added"
    db.session.remove()
    assert db.session.scalar(select(func.count(ReturnVersion.id))) == versions


def stored_figures(version: ReturnVersion) -> ReturnFigures:
    return ReturnFigures.from_figures(
        FigureIn(value.kpi.code, value.breakdown, value.value, value.numerator, value.denominator)
        for value in version.values
    )


def test_every_seeded_return_keeps_every_rule(demo: Flask) -> None:
    """Whatever severity each rule has, no demo return breaks one: the demo's
    figures are meant to be figures a commissioner could sign off."""
    load_demo_performance(db, AS_AT)
    rules = declared_rules(db.session())
    assert {rule.kind for rule in rules} == set(RuleKind)
    versions = db.session.scalars(
        select(ReturnVersion).options(
            selectinload(ReturnVersion.return_).selectinload(Return.contract),
            selectinload(ReturnVersion.values).selectinload(ReturnValue.kpi),
        )
    ).all()
    assert len(versions) == len(quarter_states(db.session())) > 20  # one version each
    broken = {
        (v.return_.contract.reference, v.return_.period, v.number): [
            (b.rule.kind.value, b.rule.kpi, b.rule.related, str(b.figure), str(b.against))
            for b in broken_rules(rules, stored_figures(v))
        ]
        for v in versions
    }
    assert {key: found for key, found in broken.items() if found} == {}

    halton_q4 = next(
        v
        for v in versions
        if (v.return_.contract.reference, v.return_.period)
        == (
            "HBC-CYP-DA-01",
            "2013-14-Q4",
        )
    )
    figures = stored_figures(halton_q4)
    assert figures.counts["REF-ACCEPTED"] <= figures.counts["REF-RECEIVED"]
    assert figures.denominators["CONTACT-2WD"] == figures.counts["REF-ACCEPTED"]
    assert figures.denominators["SAFETY-PLAN"] == figures.counts["CASES-CLOSED"]


# Security timing keeps the real clock (monitor.clock), and a link's expiry is in its future.
REAL_CLOCK_TABLES = {"login_failures", "account_tokens", "password_reset_requests", "sso_login_states"}


def test_demo_times_are_as_at_its_day(demo: Flask) -> None:
    """Every time the seeded demo stores (audit records, returns received and
    reviewed, accounts created, two-factor turned on) is on or before the day it
    runs as at, not the real clock's; and each return was received near its due date."""
    as_at = date.fromisoformat(demo.config["TODAY"])
    end_of_day = datetime.combine(as_at + timedelta(days=1), time())  # naive UTC; December is GMT
    session = db.session()
    checked = []
    for table in Base.metadata.sorted_tables:
        if table.name in REAL_CLOCK_TABLES:
            continue
        for column in table.columns:
            if isinstance(column.type, DateTime):
                latest = session.scalar(select(func.max(column)))
                checked.append(f"{table.name}.{column.name}")
                assert latest is None or latest < end_of_day, f"{table.name}.{column.name} is {latest}"
    assert {"audit_events.at", "return_versions.uploaded_at", "return_events.at", "users.created_at"} <= set(
        checked
    )
    assert session.scalar(select(func.count(AuditEvent.id))) > 0
    for version in session.scalars(select(ReturnVersion).options(selectinload(ReturnVersion.return_))):
        received = version.uploaded_at.date()
        due = version.return_.due_date
        assert due - timedelta(days=9) <= received <= due + timedelta(days=1), (
            version.return_.period,
            received,
        )
