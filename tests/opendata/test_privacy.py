"""Published data is public: only register data, never a user, a contract
manager, who approved a change, a return figure or commentary.

The exports are walked key by key and string by string, with the demo's
returns, commentary and queries loaded so there is something to leak.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import select

from monitor.auth.models import User
from monitor.clock import today
from monitor.contracts.models import Amendment, Contract
from monitor.db import db
from monitor.kpis.demo import load_demo_performance
from monitor.kpis.models import Kpi, ReturnCommentary, ReturnEvent, ReturnValue
from monitor.opendata import service
from tests.conftest import WAREHOUSE_AS_AT
from tests.opendata.conftest import SERVICE_URL, keys_and_strings, parsed

# Every key path an export may carry ([] stands for any list item).
OCDS_KEYS = {
    "/uri",
    "/version",
    "/extensions[]",
    "/publishedDate",
    "/publisher/name",
    "/license",
    *(
        "/releases[]" + path
        for path in (
            "/ocid",
            "/id",
            "/date",
            "/tag[]",
            "/initiationType",
            "/language",
            "/parties[]/id",
            "/parties[]/name",
            "/parties[]/roles[]",
            "/parties[]/identifier/scheme",
            "/parties[]/identifier/id",
            "/buyer/id",
            "/buyer/name",
            "/planning/budget/id",
            "/planning/budget/description",
            "/planning/budget/amount/amount",
            "/planning/budget/amount/currency",
            "/planning/budget/budgetBreakdown[]/id",
            "/planning/budget/budgetBreakdown[]/description",
            "/planning/budget/budgetBreakdown[]/amount/amount",
            "/planning/budget/budgetBreakdown[]/amount/currency",
            "/planning/budget/budgetBreakdown[]/period/startDate",
            "/planning/budget/budgetBreakdown[]/period/endDate",
            "/planning/budget/budgetBreakdown[]/sourceParty/id",
            "/planning/budget/budgetBreakdown[]/sourceParty/name",
            "/planning/milestones[]/id",
            "/planning/milestones[]/title",
            "/planning/milestones[]/dueDate",
            "/planning/milestones[]/dateMet",
            "/planning/milestones[]/status",
            "/awards[]/id",
            "/awards[]/title",
            "/awards[]/status",
            "/awards[]/date",
            "/awards[]/value/amount",
            "/awards[]/value/currency",
            "/awards[]/suppliers[]/id",
            "/awards[]/suppliers[]/name",
            "/awards[]/contractPeriod/startDate",
            "/awards[]/contractPeriod/endDate",
            "/awards[]/contractPeriod/maxExtentDate",
            "/contracts[]/id",
            "/contracts[]/awardID",
            "/contracts[]/title",
            "/contracts[]/description",
            "/contracts[]/status",
            "/contracts[]/period/startDate",
            "/contracts[]/period/endDate",
            "/contracts[]/period/maxExtentDate",
            "/contracts[]/value/amount",
            "/contracts[]/value/currency",
            "/contracts[]/milestones[]/id",
            "/contracts[]/milestones[]/title",
            "/contracts[]/milestones[]/dueDate",
            "/contracts[]/milestones[]/dateMet",
            "/contracts[]/milestones[]/status",
            "/contracts[]/amendments[]/id",
            "/contracts[]/amendments[]/date",
            "/contracts[]/amendments[]/rationale",
            "/contracts[]/amendments[]/description",
            "/contracts[]/amendments[]/amendsReleaseID",
            "/contracts[]/amendments[]/releaseID",
        )
    ),
}
GIVING_KEYS = {
    "/version",
    "/publisher/name",
    "/license",
    "/issued",
    *(
        "/grants[]" + path
        for path in (
            "/id",
            "/title",
            "/description",
            "/currency",
            "/amountAwarded",
            "/awardDate",
            "/plannedDates[]/startDate",
            "/plannedDates[]/endDate",
            "/plannedDates[]/duration",
            "/recipientOrganization[]/id",
            "/recipientOrganization[]/name",
            "/recipientOrganization[]/charityNumber",
            "/recipientOrganization[]/companyNumber",
            "/fundingOrganization[]/id",
            "/fundingOrganization[]/name",
            "/fundingOrganization[]/charityNumber",
            "/fundingOrganization[]/companyNumber",
        )
    ),
}


def _private_text() -> set[str]:
    """Every stored string that must never be published."""
    session = db.session()
    found: set[str] = set()
    for user in session.scalars(select(User)):
        found |= {user.email, user.name}
    found |= set(session.scalars(select(Contract.contract_manager)))
    for amendment in session.scalars(select(Amendment)):
        found |= {amendment.approved_by, amendment.board_minute_reference}
    found |= set(session.scalars(select(ReturnCommentary.text)))
    found |= set(session.scalars(select(ReturnEvent.comment)))
    found |= set(session.scalars(select(Kpi.name))) | set(session.scalars(select(Kpi.definition)))
    return {text for text in found if text and len(text.strip()) >= 4}


def _exports() -> list[tuple[set[str], dict[str, Any]]]:
    session = db.session()
    contracts = service.contracts_in_scope(session, None, None)
    settings = service.publishing(SERVICE_URL)
    documents = [
        (OCDS_KEYS, parsed(service.register_ocds(session, contracts, settings, today(), None).text)),
        (GIVING_KEYS, parsed(service.register_grants(session, contracts, settings, today(), None).text)),
    ]
    for contract in contracts:
        documents.append(
            (OCDS_KEYS, parsed(service.contract_ocds(session, contract, settings, today()).text))
        )
    return documents


def test_exports_carry_only_register_data(demo: Flask) -> None:
    demo.config["TODAY"] = WAREHOUSE_AS_AT
    load_demo_performance(db, date.fromisoformat(WAREHOUSE_AS_AT))
    db.session.remove()
    private = _private_text()
    # There is something to leak: users, managers, approvers, commentary and KPI figures.
    assert "Community safety commissioning manager, LBBD" in private
    assert "Tri-borough Executive" in private and "commissioner@lbbd.demo.example" in private
    assert db.session.scalar(select(ReturnValue.id).limit(1)) is not None
    assert db.session.scalar(select(ReturnCommentary.id).limit(1)) is not None
    for allowed, document in _exports():
        for path, leaf in keys_and_strings(document):
            assert path in allowed, f"{path} is not a published field"
            if isinstance(leaf, str):
                for text in private:
                    assert text not in leaf, f"{path} carries private text {text!r}"
        # No email address of any kind, whoever it belongs to.
        for _path, leaf in keys_and_strings(document):
            assert not (isinstance(leaf, str) and re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", leaf)), leaf
