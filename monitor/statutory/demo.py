"""The demo's statutory return: Barking and Dagenham's refuge (LBBD-DV-002) and
sanctuary scheme (LBBD-DV-005) count as relevant safe accommodation in 2013/14,
the demo's year of returns, so the illustrative 2013/14 return has sources."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.contracts.models import Contract
from monitor.statutory.models import SafeAccommodationContract

DEMO_YEAR = "2013/14"
DEMO_SAFE_ACCOMMODATION = ("LBBD-DV-002", "LBBD-DV-005")


def load_demo_safe_accommodation(session: Session) -> int:
    """Flag the demo's safe-accommodation contracts for 2013/14; returns how many
    flags were added. Running it again adds nothing; a contract not loaded is skipped."""
    contracts = session.scalars(select(Contract).where(Contract.reference.in_(DEMO_SAFE_ACCOMMODATION))).all()
    flagged = set(
        session.scalars(
            select(SafeAccommodationContract.contract_id).where(
                SafeAccommodationContract.financial_year == DEMO_YEAR,
                SafeAccommodationContract.contract_id.in_([contract.id for contract in contracts]),
            )
        ).all()
    )
    added = 0
    for contract in contracts:
        if contract.id not in flagged:
            session.add(SafeAccommodationContract(contract=contract, financial_year=DEMO_YEAR))
            added += 1
    session.flush()
    return added
