"""Fixtures for the framework and returns: the standard KPI library and a
framework on two demo contracts, built directly so every part can be tested
on its own."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import insert, select

from monitor.audit import Actor, acting_as
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.library.definitions import load_library
from monitor.kpis.models import FrameworkItem, Kpi

# code -> (target, basis); None = monitored without a target.
HALTON_FRAMEWORK: dict[str, tuple[Decimal | None, str]] = {
    "REF-RECEIVED": (Decimal(30), "quarter"),
    "REF-ACCEPTED": (Decimal(25), "quarter"),
    "CONTACT-2WD": (Decimal(90), "quarter"),
    "CASES-CLOSED": (Decimal(15), "quarter"),
    "SAFETY-PLAN": (Decimal(95), "quarter"),
    "CP-CIN-SUPPORTED": (None, "quarter"),
    "SDQ-IMPROVED": (Decimal(60), "quarter"),
    "WEMWBS-IMPROVED": (Decimal(50), "quarter"),
}
REFUGE_FRAMEWORK: dict[str, tuple[Decimal | None, str]] = {
    "REF-RECEIVED": (Decimal(40), "quarter"),
    "CASELOAD": (Decimal(20), "quarter"),
    "FEEL-SAFER": (Decimal(85), "quarter"),
    "ABUSE-STOPPED": (Decimal(70), "quarter"),
    "MARAC-REPEAT": (Decimal(5), "quarter"),
}


def add_framework(reference: str, items: dict[str, tuple[Decimal | None, str]], effective_from: str) -> None:
    with acting_as(Actor(None, "test framework")), db.transaction() as session:
        contract = session.execute(select(Contract).where(Contract.reference == reference)).scalar_one()
        kpis = {k.code: k for k in session.scalars(select(Kpi))}
        for code, (target, basis) in items.items():
            session.add(
                FrameworkItem(
                    contract_id=contract.id,
                    kpi_id=kpis[code].id,
                    target=target,
                    target_basis=basis,
                    effective_from=effective_from,
                )
            )


@pytest.fixture
def library(demo: Flask) -> Flask:
    with db.transaction() as session:
        load_library(session)
    db.session.remove()
    return demo


@pytest.fixture
def frameworks(library: Flask) -> Flask:
    """Halton's children's service from Q3 2013/14 and the B&D refuge from Q1."""
    add_framework("HBC-CYP-DA-01", HALTON_FRAMEWORK, "2013-14-Q3")
    add_framework("LBBD-DV-002", REFUGE_FRAMEWORK, "2013-14-Q1")
    db.session.remove()
    return library


@pytest.fixture
def add_return(library: Flask) -> Callable[..., int]:
    """`add_return("LBBD-DV-002", "2013-14-Q1", {"REF-RECEIVED": 38}, state="accepted")`:
    a return with one more version holding those KPI totals, built directly
    (no workbook), so performance can be tested apart from the upload pages.
    Returns the version's id."""
    from datetime import timedelta

    from monitor.kpis.models import Return, ReturnValue, ReturnVersion
    from monitor.kpis.periods import Quarter

    def make(
        reference: str,
        period: str,
        totals: dict[str, int | str | Decimal],
        state: str = "accepted",
        submitted: bool = True,
    ) -> int:
        with acting_as(Actor(None, "test returns")), db.transaction() as session:
            contract = session.execute(select(Contract).where(Contract.reference == reference)).scalar_one()
            kpis = {k.code: k.id for k in session.scalars(select(Kpi))}
            found = session.scalar(
                select(Return).where(Return.contract_id == contract.id, Return.period == period)
            )
            quarter = Quarter.parse(period)
            assert quarter is not None, period
            row = found or Return(
                contract_id=contract.id, period=period, due_date=quarter.end + timedelta(days=21)
            )
            row.state = state
            session.add(row)
            session.flush()
            # Core inserts: these stand in for an upload, and keep the
            # workbook bytes out of the audit trail's JSON.
            version_id = session.execute(
                insert(ReturnVersion).returning(ReturnVersion.id),
                {
                    "return_id": row.id,
                    "number": len(row.versions) + 1,
                    "filename": f"{reference}-{period}.xlsx",
                    "content": b"test",
                    "sha256": "0" * 64,
                    "size_bytes": 4,
                    "template_version": "test",
                    "submitted": submitted,
                },
            ).scalar_one()
            session.execute(
                insert(ReturnValue),
                [
                    {
                        "version_id": version_id,
                        "kpi_id": kpis[code],
                        "breakdown": "",
                        "value": Decimal(str(value)),
                    }
                    for code, value in totals.items()
                ],
            )
            session.expire(row, ["versions"])
            return int(version_id)

    return make
