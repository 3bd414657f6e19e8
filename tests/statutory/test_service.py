"""The statutory return compiled from the demo's 2013/14 returns: LBBD's refuge
(LBBD-DV-002, Q4 awaiting review) and sanctuary scheme (LBBD-DV-005, Q4 not sent)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select, update

from monitor.audit import AuditEvent
from monitor.auth.models import Organisation, User
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.errors import Forbidden, ValidationFailed
from monitor.kpis.models import Kpi, Return, ReturnValue
from monitor.statutory.models import SafeAccommodationContract
from monitor.statutory.rollup import year_figure
from monitor.statutory.service import (
    SourceStatus,
    compile_return,
    flagged_contracts,
    kpi_library,
    set_contracts,
)
from tests.conftest import DEMO_USERS, WAREHOUSE_AS_AT

YEAR = "2013/14"
TODAY = __import__("datetime").date.fromisoformat(WAREHOUSE_AS_AT)


def _user(key: str) -> User:
    return db.session.execute(select(User).where(User.email == DEMO_USERS[key])).scalar_one()


def _lbbd() -> int:
    return _user("lbbd").organisation_id or 0


def _accepted_quarters(reference: str, code: str, breakdown: str) -> dict[int, Decimal]:
    """By hand: each accepted 2013/14 return's latest submitted version's value."""
    found: dict[int, Decimal] = {}
    returns = db.session.scalars(
        select(Return).join(Contract).where(Contract.reference == reference, Return.period.like("2013-14-Q%"))
    ).all()
    for return_ in returns:
        if return_.state != "accepted":
            continue
        version = [v for v in return_.versions if v.submitted][-1]
        for value in db.session.scalars(
            select(ReturnValue).join(Kpi).where(ReturnValue.version_id == version.id, Kpi.code == code)
        ):
            if value.breakdown == breakdown:
                found[int(return_.period[-1])] = value.value
    return found


def test_figures_are_hand_sums_of_the_accepted_returns(returns_app: Flask) -> None:
    compiled = compile_return(db.session(), _lbbd(), YEAR, kpi_library(db.session()), TODAY)
    women = sum(
        (
            sum(_accepted_quarters(ref, "SA-SUPPORTED", "Women").values(), Decimal(0))
            for ref in ("LBBD-DV-002", "LBBD-DV-005")
        ),
        Decimal(0),
    )
    # The refuge's Q4 awaits review and the scheme's was never sent: neither has an accepted Q4.
    for reference in ("LBBD-DV-002", "LBBD-DV-005"):
        quarters = _accepted_quarters(reference, "SA-SUPPORTED", "Women")
        assert quarters and 4 not in quarters
    question = compiled.evaluated.question("1")
    assert women > 0
    assert question.categories[0].name == "Women"
    assert question.categories[0].value == float(women)
    total = sum(
        (
            sum(_accepted_quarters(ref, "SA-SUPPORTED", "").values(), Decimal(0))
            for ref in ("LBBD-DV-002", "LBBD-DV-005")
        ),
        Decimal(0),
    )
    assert question.total is not None and question.total.value == float(total)


def test_accepting_the_waiting_quarter_adds_it_to_the_years_sum(returns_app: Flask) -> None:
    before = compile_return(db.session(), _lbbd(), YEAR, kpi_library(db.session()), TODAY)
    q4 = db.session.scalars(
        select(Return)
        .join(Contract)
        .where(Contract.reference == "LBBD-DV-002", Return.period == "2013-14-Q4")
    ).one()
    with db.transaction() as session:
        session.execute(update(Return).where(Return.id == q4.id).values(state="accepted"))
    refuge = _accepted_quarters("LBBD-DV-002", "SA-SUPPORTED", "Women")
    assert 4 in refuge and len(refuge) >= 2
    after = compile_return(db.session(), _lbbd(), YEAR, kpi_library(db.session()), TODAY)
    women_before = before.evaluated.question("1").categories[0].value
    women_after = after.evaluated.question("1").categories[0].value
    assert women_before is not None and women_after == women_before + float(refuge[4])
    # Bedspaces are a stock: the refuge's latest accepted quarter (now Q4) replaces Q3, not adds to it.
    refuge_beds = _accepted_quarters("LBBD-DV-002", "SA-BEDSPACES", "Refuge")
    beds = {c.name: c.value for c in after.evaluated.question("5").categories}
    assert beds["Refuge"] == float(refuge_beds[4])
    assert after.waiting_count == 0


def test_bedspaces_take_each_contracts_latest_accepted_quarter(returns_app: Flask) -> None:
    compiled = compile_return(db.session(), _lbbd(), YEAR, kpi_library(db.session()), TODAY)
    refuge = _accepted_quarters("LBBD-DV-002", "SA-BEDSPACES", "Refuge")
    scheme = _accepted_quarters("LBBD-DV-005", "SA-BEDSPACES", "Sanctuary scheme")
    question = compiled.evaluated.question("5")
    values = {category.name: category.value for category in question.categories}
    assert values["Refuge"] == float(refuge[max(refuge)]) and max(refuge) == 3
    assert values["Sanctuary scheme"] == float(scheme[max(scheme)])
    assert year_figure("latest", refuge) == refuge[3]


def test_the_unaccepted_quarter_is_flagged_and_left_out(returns_app: Flask) -> None:
    compiled = compile_return(db.session(), _lbbd(), YEAR, kpi_library(db.session()), TODAY)
    statuses = {(s.contract.reference, s.period): s.status for s in compiled.quarters}
    assert statuses[("LBBD-DV-002", "2013-14-Q4")] == SourceStatus.AWAITING_REVIEW
    assert statuses[("LBBD-DV-005", "2013-14-Q4")] == SourceStatus.NOT_SENT
    assert statuses[("LBBD-DV-002", "2013-14-Q1")] == SourceStatus.ACCEPTED
    assert (compiled.accepted_count, compiled.waiting_count, compiled.not_sent_count) == (6, 1, 1)
    # The refuge's Q4 figures are in the database, submitted, and not counted.
    q4 = db.session.scalars(
        select(Return)
        .join(Contract)
        .where(Contract.reference == "LBBD-DV-002", Return.period == "2013-14-Q4")
    ).one()
    submitted = [v for v in q4.versions if v.submitted][-1]
    q4_women = next(
        value.value
        for value in submitted.values
        if value.kpi.code == "SA-SUPPORTED" and value.breakdown == "Women"
    )
    accepted = sum(
        (
            sum(_accepted_quarters(ref, "SA-SUPPORTED", "Women").values(), Decimal(0))
            for ref in ("LBBD-DV-002", "LBBD-DV-005")
        ),
        Decimal(0),
    )
    assert q4_women > 0
    assert compiled.evaluated.question("1").categories[0].value == float(accepted)
    women = compiled.rows[0]
    assert women.category == "Women"
    assert "From accepted returns only; left out: 1 awaiting review and 1 not sent" in women.notes
    # Accepted quarters whose return did not report the figure (the KPI joined the framework mid-year).
    silent = compiled.accepted_count - sum(
        len(_accepted_quarters(ref, "SA-SUPPORTED", "Women")) for ref in ("LBBD-DV-002", "LBBD-DV-005")
    )
    assert silent > 0
    assert f"{silent} accepted returns did not report this figure" in women.notes
    # A stock takes the latest quarter, so quarters not reporting it are no gap.
    refuge_beds = next(row for row in compiled.rows if row.number == "5" and row.category == "Refuge")
    assert "did not report" not in refuge_beds.notes
    assert [c.reference for c in women.contracts] == ["LBBD-DV-002", "LBBD-DV-005"]


def test_a_figure_with_no_accepted_return_is_none_never_zero(returns_app: Flask) -> None:
    # Every accepted quarter of both contracts back to awaiting review.
    ids = [c.id for c in flagged_contracts(db.session(), _lbbd(), YEAR)]
    with db.transaction() as session:
        session.execute(
            update(Return)
            .where(Return.contract_id.in_(ids), Return.state == "accepted")
            .values(state="submitted")
        )
    compiled = compile_return(db.session(), _lbbd(), YEAR, kpi_library(db.session()), TODAY)
    row = next(row for row in compiled.rows if row.number == "5" and row.category == "Sanctuary scheme")
    assert row.value is None
    assert row.figure_text == ""
    # Seven awaiting review and the scheme's Q4, never sent.
    assert row.notes == "Not available: no return is accepted yet (7 awaiting review and 1 not sent)"
    assert [c.reference for c in row.contracts] == ["LBBD-DV-002", "LBBD-DV-005"]
    # Question 5's total cannot be known, so the mandatory question is flagged incomplete.
    question = next(q for q in compiled.questions if q.evaluated.question.number == "5")
    assert question.incomplete_mandatory
    assert compiled.evaluated.question("5").total is not None
    assert compiled.evaluated.question("5").total.value is None  # type: ignore[union-attr]


def test_with_no_contracts_nothing_is_available(returns_app: Flask) -> None:
    with db.transaction() as session:
        set_contracts(session, _user("lbbd"), _lbbd(), YEAR, [])
    compiled = compile_return(db.session(), _lbbd(), YEAR, kpi_library(db.session()), TODAY)
    assert compiled.contracts == ()
    assert all(row.value is None for row in compiled.rows)
    assert {row.notes for row in compiled.rows} == {"Not available: no accepted return reports this figure"}
    assert len(compiled.evaluated.incomplete_mandatory) == 4


def test_no_definition_names_the_years_that_have_one(returns_app: Flask) -> None:
    with pytest.raises(ValidationFailed) as failed:
        compile_return(db.session(), _lbbd(), "2015/16", kpi_library(db.session()), TODAY)
    assert failed.value.errors["year"].startswith(
        "There is no statutory return definition for 2015/16; the years with one are 2013/14 and 2024/25"
    )


def test_set_contracts_replaces_the_set_and_is_audited(
    returns_app: Flask, contract_id: Callable[[str], int]
) -> None:
    user = _user("lbbd")
    with db.transaction() as session:
        set_contracts(session, user, _lbbd(), YEAR, [contract_id("LBBD-DV-002")])
    with db.transaction() as session:
        set_contracts(session, user, _lbbd(), YEAR, [contract_id("LBBD-DV-005")])
    assert [c.reference for c in flagged_contracts(db.session(), _lbbd(), YEAR)] == ["LBBD-DV-005"]
    flag = db.session.scalars(select(SafeAccommodationContract)).one()
    assert flag.flagged_by_id == user.id
    actions = (
        db.session.execute(
            select(AuditEvent.action).where(AuditEvent.entity_type == "safe accommodation contract")
        )
        .scalars()
        .all()
    )
    # The demo's two flags, then the refuge's removed and the scheme added again.
    assert sorted(actions) == ["create", "create", "create", "delete", "delete"]


def test_set_contracts_refuses_another_authoritys_contract_and_changes_nothing(
    returns_app: Flask, contract_id: Callable[[str], int]
) -> None:
    halton = db.session.scalars(select(Contract).where(Contract.lead_commissioner_id != _lbbd())).first()
    assert halton is not None
    with pytest.raises(ValidationFailed) as failed, db.transaction() as session:
        set_contracts(session, _user("lbbd"), _lbbd(), YEAR, [contract_id("LBBD-DV-002"), halton.id])
    assert f"{halton.reference} cannot count towards this return" in failed.value.errors["contracts"]
    assert len(flagged_contracts(db.session(), _lbbd(), YEAR)) == 2


def test_only_the_authoritys_commissioners_and_admins_set_contracts(returns_app: Flask) -> None:
    for key in ("refuge", "bd_board", "halton"):
        with pytest.raises(Forbidden), db.transaction() as session:
            set_contracts(session, _user(key), _lbbd(), YEAR, [])
    with db.transaction() as session:
        set_contracts(session, _user("admin"), _lbbd(), YEAR, [])
    assert flagged_contracts(db.session(), _lbbd(), YEAR) == []


def test_the_year_format_is_checked_in_the_database(
    returns_app: Flask, contract_id: Callable[[str], int]
) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(
            SafeAccommodationContract(contract_id=contract_id("LBBD-DV-002"), financial_year="2013-14")
        )
    assert db.session.get(Organisation, _lbbd()) is not None


def test_the_demo_flags_are_idempotent(returns_app: Flask) -> None:
    from monitor.statutory.demo import load_demo_safe_accommodation

    with db.transaction() as session:
        assert load_demo_safe_accommodation(session) == 0
    assert [c.reference for c in flagged_contracts(db.session(), _lbbd(), YEAR)] == [
        "LBBD-DV-002",
        "LBBD-DV-005",
    ]
