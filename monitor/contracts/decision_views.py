"""Decisions due: where a commissioner's work starts. Every date to act on within a
chosen number of months, soonest first, with missed decisions above them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template, request
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from monitor.access.signed_in import signed_in_user
from monitor.clock import today
from monitor.contracts.access import visible_contracts
from monitor.contracts.blueprint import blueprint
from monitor.contracts.dates import decisions_of, status_expression
from monitor.contracts.models import Contract
from monitor.contracts.renewal import DATE_KIND_NAMES, DueDate, Status, ToDecide, months_ahead
from monitor.db import db

MONTH_CHOICES = (3, 6, 12, 18)
DEFAULT_MONTHS = 6
# Contracts on which nothing has yet been decided about how they end.
_UNDECIDED = (Status.PIPELINE, Status.MOBILISING, Status.LIVE, Status.EXTENDED)


@dataclass(frozen=True)
class DueRow:
    contract: Contract
    due: DueDate
    decision: ToDecide


def _months(raw: str) -> tuple[int, str | None]:
    """The look-ahead chosen, or the default and a message when it is not one offered."""
    raw = raw.strip()
    if not raw:
        return DEFAULT_MONTHS, None
    if raw in {str(m) for m in MONTH_CHOICES}:
        return int(raw), None
    offered = ", ".join(str(m) for m in MONTH_CHOICES[:-1]) + f" or {MONTH_CHOICES[-1]}"
    return DEFAULT_MONTHS, f"Choose {offered} months"


@blueprint.route("/decisions")
@login_required
def decisions() -> Any:
    user = signed_in_user()
    now = today()
    months, error = _months(request.args.get("within", ""))
    horizon = months_ahead(now, months)
    contracts = db.session.scalars(
        select(Contract)
        .where(visible_contracts(user), status_expression(now).in_([s.value for s in _UNDECIDED]))
        .options(
            selectinload(Contract.options),
            selectinload(Contract.amendments),
            selectinload(Contract.provider),
        )
    ).all()
    decided = [(contract, decisions_of(contract, now)) for contract in contracts]
    overdue = sorted(
        ((c, d) for c, d in decided if d.overdue), key=lambda pair: (pair[1].decision_by, pair[0].reference)
    )
    kinds = list(DATE_KIND_NAMES)
    rows = sorted(
        (
            DueRow(contract, due, decision)
            for contract, decision in decided
            for due in decision.due_between(now, horizon)
        ),
        key=lambda row: (row.due.on, kinds.index(row.due.kind), row.contract.reference),
    )
    return render_template(
        "contracts/decisions.html",
        title="Decisions due",
        rows=rows,
        overdue=overdue,
        months=months,
        month_choices=MONTH_CHOICES,
        horizon=horizon,
        error=error,
        date_names=DATE_KIND_NAMES,
    ), (400 if error else 200)
