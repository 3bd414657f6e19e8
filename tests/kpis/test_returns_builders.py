"""Plain builders for the returns tests (no tests here): checked workbooks as
the ingest pipeline reports them, demo users and contracts, and one upload."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from monitor.audit import Actor, acting_as
from monitor.auth.models import User
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.models import Return, ReturnVersion
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.ingest.result import CheckedReturn, FigureIn, Message, OutcomeIn, Severity
from monitor.kpis.returns.services import store_version
from tests.conftest import DEMO_USERS

REFUGE = "LBBD-DV-002"
HALTON = "HBC-CYP-DA-01"
Q1 = Quarter(2013, 1)
Q2 = Quarter(2013, 2)
Q3 = Quarter(2013, 3)


def refuge_figures(referrals: int = 42) -> list[FigureIn]:
    return [
        FigureIn("REF-RECEIVED", "", Decimal(referrals)),
        FigureIn("REF-RECEIVED", "Police", Decimal(20)),
        FigureIn("REF-RECEIVED", "Self-referral", Decimal(referrals - 20)),
        FigureIn("CASELOAD", "", Decimal(18)),
        FigureIn("FEEL-SAFER", "", Decimal("88.00"), Decimal(22), Decimal(25)),
        FigureIn("ABUSE-STOPPED", "", Decimal("72.00"), Decimal(18), Decimal(25)),
        FigureIn("MARAC-REPEAT", "", Decimal(4)),
    ]


def checked(
    contract_id: int | None = None,
    quarter: Quarter = Q1,
    *,
    figures: list[FigureIn] | None = None,
    commentary: dict[str, str] | None = None,
    outcomes: list[OutcomeIn] | None = None,
    messages: list[Message] | None = None,
) -> CheckedReturn:
    return CheckedReturn(
        contract_id=contract_id,
        period=str(quarter),
        template_version="2013.1",
        figures=refuge_figures() if figures is None else figures,
        commentary={"CASELOAD": "Two bed spaces closed for repairs in May."}
        if commentary is None
        else commentary,
        outcomes=outcomes or [],
        messages=messages or [],
    )


def warning(
    text: str = "Referrals are 60% higher than last quarter; explain why in the commentary",
) -> Message:
    return Message("Figures", "D7", "REF-RECEIVED", Severity.WARNING, text)


def error(text: str = "Enter the number of referrals from police as a whole number, like 12") -> Message:
    return Message("Figures", "D8", "REF-RECEIVED", Severity.ERROR, text)


def user(who: str) -> User:
    return db.session.execute(select(User).where(User.email == DEMO_USERS[who])).scalar_one()


def contract(reference: str) -> Contract:
    return db.session.execute(select(Contract).where(Contract.reference == reference)).scalar_one()


def workbook_bytes(tag: str = "") -> bytes:
    return b"PK\x03\x04 pretend workbook " + tag.encode()


def upload(
    who: str,
    reference: str = REFUGE,
    quarter: Quarter = Q1,
    *,
    submit: bool = True,
    acknowledge: bool = False,
    result: CheckedReturn | None = None,
    content: bytes | None = None,
    today: date | None = None,
    **kwargs: Any,
) -> ReturnVersion:
    """One upload in its own transaction, as the web page does it."""
    person = user(who)
    item = contract(reference)
    with acting_as(Actor(person.id, person.email)), db.transaction() as session:
        return store_version(
            session,
            person,
            item,
            quarter,
            content if content is not None else workbook_bytes(f"{reference} {quarter} {submit}"),
            "refuge-return.xlsx",
            result if result is not None else checked(item.id, quarter, **kwargs),
            submit=submit,
            acknowledge_warnings=acknowledge,
            today=today,
        )


def stored(reference: str = REFUGE, quarter: Quarter = Q1) -> Return | None:
    db.session.expire_all()
    item = contract(reference)
    return db.session.scalar(
        select(Return).where(Return.contract_id == item.id, Return.period == str(quarter))
    )


# Real workbooks, built from the generated template and filled in as a provider would.
REFUGE_GOOD: dict[tuple[str, str, str], Any] = {
    ("ABUSE-STOPPED", "", "numerator"): 18,
    ("ABUSE-STOPPED", "", "denominator"): 24,
    ("FEEL-SAFER", "", "numerator"): 22,
    ("FEEL-SAFER", "", "denominator"): 25,
    ("MARAC-REPEAT", "", "value"): 3,
    ("CASELOAD", "", "value"): 21,
    ("REF-RECEIVED", "Police", "breakdown"): 15,
    ("REF-RECEIVED", "Children's social care", "breakdown"): 6,
    ("REF-RECEIVED", "MASH", "breakdown"): 5,
    ("REF-RECEIVED", "Health", "breakdown"): 4,
    ("REF-RECEIVED", "Education", "breakdown"): 2,
    ("REF-RECEIVED", "Self-referral", "breakdown"): 8,
    ("REF-RECEIVED", "Other", "breakdown"): 2,
    ("REF-RECEIVED", "", "total"): 42,
}


def refuge_workbook(quarter: Quarter = Q1, **changes: Any) -> bytes:
    """A refuge return on target everywhere; `changes` like {"REF-RECEIVED//total": 70}."""
    from tests.kpis.fixtures.workbooks import fill, template

    figures = dict(REFUGE_GOOD)
    for key, value in changes.items():
        code, breakdown, line = key.split("/")
        figures[(code, breakdown, line)] = value
    return fill(template(REFUGE, quarter), figures, outcomes=[])
