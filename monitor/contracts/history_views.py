"""A contract's change history, on its own page: a paginated timeline."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_login import login_required

from monitor.access.rules import can_see_audit
from monitor.access.signed_in import signed_in_user
from monitor.contracts.access import contract_for
from monitor.contracts.blueprint import blueprint
from monitor.contracts.history import history_page
from monitor.db import db
from monitor.url_ids import LARGEST_ID


@blueprint.route("/contracts/<int:contract_id>/history")
@login_required
def contract_history_page(contract_id: int) -> Any:
    if contract_id > LARGEST_ID:
        abort(404)
    session = db.session()
    user = signed_in_user()
    contract = contract_for(session, user, contract_id)
    if not can_see_audit(user, contract):
        abort(403)
    # Anything but a whole number from 1 shows the first page; a page past the last is not found.
    raw = request.args.get("page", "")
    number = int(raw) if raw.isdigit() and len(raw) < 10 else 1
    page = history_page(session, contract.id, number)
    if number > page.pages:
        abort(404)
    return render_template(
        "contracts/history.html",
        title=f"Change history: {contract.reference}",
        contract=contract,
        page=page,
    )
