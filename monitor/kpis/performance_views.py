"""Performance pages: one contract's KPIs quarter by quarter, and every
contract the user can see with its latest rating."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from monitor.auth.permissions import can_change, visible_contracts
from monitor.clock import today
from monitor.contracts.access import contract_for, signed_in_user
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.blueprint import blueprint
from monitor.kpis.performance import Cell, disclosure_threshold, format_figure, performance_of, suppressed
from monitor.kpis.rag import PROCUREMENT_SEVERITY, Travel

# A year at a glance; the whole history is one link away.
DEFAULT_QUARTERS = 4
TRAVEL_TEXT = {
    Travel.IMPROVING: "Improving on the quarter before",
    Travel.WORSENING: "Worse than the quarter before",
    Travel.NO_CHANGE: "No change on the quarter before",
    Travel.NO_PREVIOUS: "",
}


def shown_actual(cell: Cell, threshold: int | None) -> str:
    if cell.figure is None:
        return ""
    if threshold is not None and suppressed(cell.figure, cell.kpi.unit, threshold):
        return "[c]"
    return format_figure(cell.figure.value, cell.kpi.unit)


@blueprint.route("/contracts/<int:contract_id>/performance")
@login_required
def contract_performance(contract_id: int) -> Any:
    user = signed_in_user()
    session = db.session()
    contract = contract_for(session, user, contract_id)
    performance = performance_of(session, [contract], today())[0]
    show_all = request.args.get("quarters") == "all"
    return render_template(
        "kpis/performance_contract.html",
        title=f"Performance: {contract.reference}",
        contract=contract,
        performance=performance.window(None if show_all else DEFAULT_QUARTERS),
        quarter_count=len(performance.quarters),
        show_all=show_all,
        summary=performance.summary(),
        threshold=disclosure_threshold(user),
        shown_actual=shown_actual,
        format_figure=format_figure,
        travel_text=TRAVEL_TEXT,
        can_change=can_change(user, contract),
    )


@blueprint.route("/performance")
@login_required
def performance() -> Any:
    user = signed_in_user()
    session = db.session()
    contracts = session.scalars(
        select(Contract)
        .where(visible_contracts(user))
        .options(selectinload(Contract.provider))
        .order_by(Contract.reference)
    ).all()
    rows = [
        (p.contract, p.summary(), p.has_figures) for p in performance_of(session, list(contracts), today())
    ]
    # Contracts needing attention first; those without figures last.
    rows.sort(key=lambda row: (row[1].quarter is None, PROCUREMENT_SEVERITY.index(row[1].rating)))
    return render_template(
        "kpis/performance.html",
        title="Performance",
        rows=rows,
        any_figures=any(has_figures for _, _, has_figures in rows),
    )
