"""The reporting calendar page: every return the user's contracts owe, with filters."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_login import login_required

from monitor.access.signed_in import signed_in_user
from monitor.clock import today
from monitor.contracts.access import visible_contracts
from monitor.db import db
from monitor.kpis.blueprint import blueprint
from monitor.kpis.periods import PERIOD_HINT, Quarter
from monitor.kpis.returns.calendar import STATE_FILTERS, count, expected_returns
from monitor.kpis.returns.views import rules


@blueprint.route("/returns")
@login_required
def returns_calendar() -> Any:
    user = signed_in_user()
    everything = expected_returns(db.session(), visible_contracts(user), today(), rules())
    state = request.args.get("state", "").strip()
    period = request.args.get("quarter", "").strip()
    errors: dict[str, str] = {}
    if state and state not in {value for value, _ in STATE_FILTERS}:
        errors["state"] = "Choose a state from the list"
        state = ""
    quarter = Quarter.parse(period) if period else None
    if period and quarter is None:
        errors["quarter"] = PERIOD_HINT
        period = ""
    shown = [e for e in everything if e.matches(state) and (not period or e.period == str(quarter))]
    quarters = sorted({e.quarter for e in everything}, reverse=True)
    return render_template(
        "kpis/calendar.html",
        title="Returns",
        counts=count(everything),
        returns=shown,
        state=state,
        quarter=str(quarter) if quarter else "",
        state_choices=list(STATE_FILTERS),
        quarter_choices=[(str(q), q.label) for q in quarters],
        filter_errors=[{"text": message, "href": f"#filter-{name}"} for name, message in errors.items()],
        filtered=bool(state or period),
    ), (400 if errors else 200)
