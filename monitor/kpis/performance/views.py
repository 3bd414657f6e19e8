"""Performance pages: one contract's KPIs in a chosen quarter and quarter by
quarter, and every contract the user can see in a chosen quarter, each with
its rating counts and a paragraph saying what changed."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from monitor.access.rules import can_change
from monitor.access.signed_in import signed_in_user
from monitor.contracts.access import contract_for, visible_contracts
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.disclosure.suppression import CONFIDENTIAL, NOT_AVAILABLE
from monitor.formatting import format_figure, quarter_text
from monitor.kpis.blueprint import blueprint
from monitor.kpis.performance.figures import ContractPerformance
from monitor.kpis.performance.quarters import QuarterChoice, choose_quarter, reported_quarters
from monitor.kpis.performance.rag import PROCUREMENT_SEVERITY, Travel
from monitor.kpis.performance.service import performances_for
from monitor.kpis.performance.summary import QuarterSummary, summarise_quarter

# A year at a glance; the whole history is one link away.
DEFAULT_QUARTERS = 4
TRAVEL_TEXT = {
    Travel.IMPROVING: "Improving on the quarter before",
    Travel.WORSENING: "Worse than the quarter before",
    Travel.NO_CHANGE: "No change on the quarter before",
    Travel.NO_PREVIOUS: "",
}


# What each marker means, beside it on board pages.
MARKER_TEXT = {
    CONFIDENTIAL: "Hidden to protect privacy, with its rating",
    NOT_AVAILABLE: "Accepted, but not yet in the board figures",
}


def quarter_items(choice: QuarterChoice) -> list[dict[str, Any]]:
    """The quarter selector's options, newest first."""
    return [
        {
            "value": str(quarter),
            "text": quarter_text(quarter) + (" (provisional)" if quarter in choice.provisional else ""),
            "selected": quarter == choice.chosen,
        }
        for quarter in choice.options
    ]


def _status(choice: QuarterChoice) -> int:
    # A quarter the reader cannot have is bad input: say so, show the default.
    return 400 if choice.error else 200


@blueprint.route("/contracts/<int:contract_id>/performance")
@login_required
def contract_performance(contract_id: int) -> Any:
    user = signed_in_user()
    session = db.session()
    contract = contract_for(session, user, contract_id)
    found, board_status = performances_for(user, [contract])
    performance = found[0] if found else ContractPerformance(contract, [])
    choice = choose_quarter(performance.reported_quarters(), request.args.get("quarter"))
    show_all = request.args.get("quarters") == "all"
    return render_template(
        "kpis/performance_contract.html",
        title=f"Performance: {contract.reference}",
        contract=contract,
        performance=performance.window(None if show_all else DEFAULT_QUARTERS),
        quarter_count=len(performance.quarters),
        show_all=show_all,
        board_status=board_status,
        marker_text=MARKER_TEXT,
        threshold=current_app.config["DISCLOSURE_THRESHOLD"],
        format_figure=format_figure,
        travel_text=TRAVEL_TEXT,
        can_change=can_change(user, contract),
        choice=choice,
        quarter_items=quarter_items(choice),
        chosen=summarise_quarter(performance, choice.chosen) if choice.chosen else None,
    ), _status(choice)


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
    found, board_status = performances_for(user, list(contracts))
    choice = choose_quarter(reported_quarters(found), request.args.get("quarter"))
    chosen = choice.chosen
    rows = [(p.contract, summarise_quarter(p, chosen) if chosen else None, p.has_figures) for p in found]
    rows.sort(key=_attention_first)
    return render_template(
        "kpis/performance.html",
        title="Performance",
        rows=rows,
        any_figures=any(has_figures for _, _, has_figures in rows),
        board_status=board_status,
        choice=choice,
        quarter_items=quarter_items(choice),
    ), _status(choice)


def _attention_first(row: tuple[Contract, QuarterSummary | None, bool]) -> tuple[bool, int]:
    """Contracts needing attention first; those without figures that quarter last."""
    summary = row[1]
    if summary is None or not summary.reported:
        return (True, 0)
    return (False, PROCUREMENT_SEVERITY.index(summary.rating))
