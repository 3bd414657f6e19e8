"""Business rules of the register through its services: bad input changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from monitor.audit import Actor, AuditEvent, acting_as
from monitor.auth.models import Organisation, User
from monitor.clock import today
from monitor.contracts import services
from monitor.contracts.dates import renewal_of, status_expression
from monitor.contracts.models import Contract, FundingLine
from monitor.contracts.renewal import Status
from monitor.db import db
from monitor.errors import ValidationFailed
from tests.conftest import DEMO_USERS


def _user(key: str) -> User:
    return db.session.execute(select(User).where(User.email == DEMO_USERS[key])).scalar_one()


def _org(name: str) -> int:
    return db.session.execute(select(Organisation.id).where(Organisation.name == name)).scalar_one()


def _fields(**overrides: object) -> services.ContractFields:
    values: dict[str, object] = {
        "reference": "LBBD-DV-900",
        "title": "Outreach for older people",
        "service_type": "community outreach",
        "category": "supporting",
        "agreement_type": "grant",
        "provider_id": _org("Refuge"),
        "lead_commissioner_id": _org("London Borough of Barking and Dagenham"),
        "start_date": date(2014, 4, 1),
        "end_date": date(2015, 3, 31),
        "notice_period_months": 3,
        "annual_value": Decimal("30000"),
        "initial_value": Decimal("30000"),
        "cohorts": ["older people"],
        "option_months": [12],
    }
    values.update(overrides)
    return services.ContractFields(**values)  # type: ignore[arg-type]


def _snapshot() -> tuple[int, int, int]:
    session = db.session()
    return (
        session.scalar(select(func.count(Contract.id))) or 0,
        session.scalar(select(func.count(FundingLine.id))) or 0,
        session.scalar(select(func.count(AuditEvent.id))) or 0,
    )


def _expect_refusal(action: Callable[[], object], field: str, words: str) -> None:
    before = _snapshot()
    with pytest.raises(ValidationFailed) as failed, db.transaction():
        action()
    assert field in failed.value.errors, failed.value.errors
    assert words.lower() in failed.value.errors[field].lower()
    db.session.remove()
    assert _snapshot() == before


def test_create_contract_is_audited_with_the_commissioner(demo: Flask) -> None:
    user = _user("lbbd")
    with acting_as(Actor(user.id, user.email)), db.transaction() as session:
        contract = services.create_contract(session, user, _fields())
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.contract_id == contract.id)).all()
    kinds = {(e.action, e.entity_type) for e in events}
    assert ("create", "contract") in kinds and ("create", "extension option") in kinds
    created = next(e for e in events if e.entity_type == "contract")
    assert created.actor_id == user.id
    assert created.changes["reference"] == [None, "LBBD-DV-900"]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"end_date": date(2014, 3, 1)}, "end_date", "same as or after the start date"),
        ({"annual_value": Decimal("-1")}, "annual_value", "cannot be negative"),
        ({"initial_value": Decimal("1.234")}, "initial_value", "2 decimal places"),
        ({"reference": "lbbd-dv-002"}, "reference", "already exists"),
        ({"reference": ""}, "reference", "Enter the contract reference"),
        ({"provider_id": 999_999}, "provider_id", "Choose the provider"),
        ({"category": "essential"}, "category", "core, supporting or supplementary"),
        ({"cohorts": ["everyone"]}, "cohorts", "unknown: everyone"),
        ({"notice_period_months": -1}, "notice_period_months", "0 to 60"),
        ({"option_months": [0]}, "option_months", "1 to 120"),
        ({"lead_commissioner_id": None}, "lead_commissioner_id", "lead commissioner"),
    ],
)
def test_bad_contract_input_changes_nothing(
    demo: Flask, overrides: dict[str, object], field: str, words: str
) -> None:
    user = _user("lbbd")
    _expect_refusal(lambda: services.create_contract(db.session(), user, _fields(**overrides)), field, words)


def test_a_commissioner_cannot_record_a_contract_for_another_council(demo: Flask) -> None:
    user = _user("halton")
    _expect_refusal(
        lambda: services.create_contract(db.session(), user, _fields()),
        "lead_commissioner_id",
        "your organisation",
    )


def _contract(reference: str) -> Contract:
    return db.session.execute(select(Contract).where(Contract.reference == reference)).scalar_one()


def _amendment(**overrides: object) -> services.AmendmentFields:
    values: dict[str, object] = {
        "kind": "extension",
        "effective_date": date(2013, 12, 1),
        "rationale": "Board agreed",
        "approved_by": "Health and Wellbeing Board",
    }
    values.update(overrides)
    return services.AmendmentFields(**values)  # type: ignore[arg-type]


def test_extension_moves_end_date_and_keeps_maximum_extent(demo: Flask) -> None:
    user = _user("lbbd")
    contract = _contract("LBBD-DV-005")  # ends 31 Mar 2016 with 12 + 12 month options
    before = renewal_of(contract, today())
    assert before.maximum_extent_date == date(2018, 3, 31)
    with db.transaction() as session:
        amendment = services.exercise_extension(session, user, contract, None, _amendment())
    assert (amendment.old_end_date, amendment.new_end_date) == (date(2016, 3, 31), date(2017, 3, 31))
    after = renewal_of(_contract("LBBD-DV-005"), today())
    assert after.end_date == date(2017, 3, 31)
    assert after.maximum_extent_date == date(2018, 3, 31)
    assert after.status == Status.EXTENDED


def test_no_extension_when_none_is_left(demo: Flask) -> None:
    user = _user("lbbd")
    contract = _contract("LBBD-DV-002")  # its one option was exercised
    _expect_refusal(
        lambda: services.exercise_extension(db.session(), user, contract, None, _amendment()),
        "option_id",
        "no extension options left",
    )


def test_amendment_needs_reason_and_approver(demo: Flask) -> None:
    user = _user("lbbd")
    contract = _contract("LBBD-DV-004")
    before = _snapshot()
    with pytest.raises(ValidationFailed) as failed, db.transaction():
        services.exercise_extension(
            db.session(), user, contract, None, _amendment(rationale=" ", approved_by="")
        )
    assert set(failed.value.errors) == {"rationale", "approved_by"}
    db.session.remove()
    assert _snapshot() == before
    assert _contract("LBBD-DV-004").end_date == date(2014, 3, 31)


def test_termination_ends_the_contract_and_lapses_options(demo: Flask) -> None:
    user = _user("lbbd")
    contract = _contract("LBBD-DV-005")
    with db.transaction() as session:
        services.record_amendment(
            session,
            user,
            contract,
            _amendment(kind="termination", effective_date=date(2014, 6, 30), planned=True),
        )
    contract = _contract("LBBD-DV-005")
    assert contract.end_date == date(2014, 6, 30)
    assert {o.state for o in contract.options} == {"lapsed"}
    assert renewal_of(contract, today()).status == Status.IN_NOTICE


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"financial_year": "2013-14"}, "financial_year", "like 2013/14"),
        ({"financial_year": "2013/15"}, "financial_year", "like 2013/14"),
        ({"amount": Decimal("-5")}, "amount", "cannot be negative"),
        ({"funder_id": 999_999}, "funder_id", "Choose the funder"),
        ({"funding_stream": "public health grant"}, "funding_stream", "already has"),
    ],
)
def test_bad_funding_lines_change_nothing(
    demo: Flask, overrides: dict[str, object], field: str, words: str
) -> None:
    user = _user("lbbd")
    contract = _contract("LBBD-DV-002")
    values: dict[str, object] = {
        "funder_id": _org("Barking and Dagenham Public Health"),
        "funding_stream": "Extra",
        "financial_year": "2014/15",
        "amount": Decimal("1000"),
    }
    values.update(overrides)
    if field == "funding_stream":
        values["financial_year"] = "2013/14"
    fields = services.FundingFields(**values)  # type: ignore[arg-type]
    _expect_refusal(lambda: services.add_funding_line(db.session(), user, contract, fields), field, words)


def test_barking_and_dagenham_2013_14_funding(demo: Flask) -> None:
    from monitor.contracts.funding import by_funder

    matrix = by_funder(db.session(), _user("lbbd"), "2013/14")
    assert matrix.year_total("2013/14") == Decimal("823500")
    assert matrix.funders_in("2013/14") == 6
    assert matrix.cell("Metropolitan Police Service", "2013/14") == Decimal("39000")
    assert matrix.cell("Barking and Dagenham Public Health", "2013/14") == Decimal("368000")


def test_sql_status_matches_renewal_rules(demo: Flask) -> None:
    """The register filters on a SQL expression; it must agree with the pure rules."""
    for on in [date(2010, 1, 1), date(2013, 10, 15), date(2013, 12, 2), date(2014, 6, 1), date(2016, 1, 1)]:
        rows = db.session.execute(select(Contract, status_expression(on))).all()
        for contract, sql_status in rows:
            assert sql_status == renewal_of(contract, on).status.value, (contract.reference, on)


def test_demo_statuses_as_at_2_december_2013(demo: Flask) -> None:
    statuses = {c.reference: renewal_of(c, today()).status for c in db.session.scalars(select(Contract))}
    assert statuses["LBBD-DV-002"] == Status.EXTENDED
    assert statuses["LBBD-DV-003"] == Status.DECOMMISSIONED
    assert statuses["HBC-CYP-DA-01"] == Status.LIVE
    assert statuses["TRI-VAWG-01"] == Status.EXTENDED
    halton = renewal_of(_contract("HBC-CYP-DA-01"), today())
    assert (halton.end_date, halton.maximum_extent_date) == (date(2014, 11, 3), date(2015, 11, 3))
    refuge = _contract("LBBD-DV-002")
    assert (refuge.original_end_date, refuge.end_date) == (date(2014, 3, 31), date(2014, 9, 30))
    assert renewal_of(_contract("LBBD-DV-001"), today()).decision_overdue
