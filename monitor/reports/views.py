"""The board pack page and download. Who may have which pack is checked
here, on the server, whatever the query string asks for."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for
from flask_login import login_required
from sqlalchemy import select

from monitor.access.rules import may_download_board_pack
from monitor.access.signed_in import signed_in_user
from monitor.auth.models import Organisation, OrganisationKind, Partnership, Role, User
from monitor.clock import today
from monitor.db import db
from monitor.reports.audience import Audience, may_read, own_audience
from monitor.reports.pack_data import PackError, WarehouseUnavailable
from monitor.reports.periods import available_quarters
from monitor.reports.service import make_board_pack, pack_warehouse
from monitor.reports.writer import XLSX_MIMETYPE

blueprint = Blueprint("reports", __name__)

CHOOSE_AUDIENCE = "Choose the organisation or board the pack is for"
CHOOSE_PERIOD = "Choose the quarter the pack covers"


def _audience_from(user: User, requested: str | None) -> Audience | None:
    """The audience a request asks for, or the user's own. Aborts with 404
    when it names one that does not exist or is not this user's to read
    (not existing and not visible look the same)."""
    if not requested:
        return own_audience(user)
    kind, _, number = requested.partition(":")
    if not number.isdigit() or kind not in ("organisation", "partnership"):
        abort(404)
    session = db.session()
    audience: Audience | None = None
    if kind == "organisation":
        org = session.get(Organisation, int(number))
        if org is not None and org.kind == OrganisationKind.COMMISSIONER.value:
            audience = Audience("commissioner", org.id, org.name)
    else:
        partnership = session.get(Partnership, int(number))
        if partnership is not None:
            audience = Audience("partnership", partnership.id, partnership.name)
    if audience is None or not may_read(user, audience):
        abort(404)
    return audience


def _audience_choices(user: User, chosen: Audience | None) -> list[dict[str, Any]]:
    """Administrators choose whose pack; everyone else gets their own."""
    if user.role != Role.ADMIN:
        return []
    session = db.session()
    commissioners = session.scalars(
        select(Organisation)
        .where(Organisation.kind == OrganisationKind.COMMISSIONER.value)
        .order_by(Organisation.name)
    ).all()
    partnerships = session.scalars(select(Partnership).order_by(Partnership.name)).all()
    options = [Audience("commissioner", o.id, o.name) for o in commissioners] + [
        Audience("partnership", p.id, p.name) for p in partnerships
    ]
    return [{"value": "", "text": "Choose an organisation or board"}] + [
        {
            "value": a.viewer,
            "text": f"{a.name} ({'commissioner' if a.kind == 'commissioner' else 'board'})",
            "selected": a == chosen,
        }
        for a in options
    ]


def _page(
    user: User, audience: Audience | None, period: str, errors: dict[str, str], status: int = 200
) -> Any:
    try:
        quarters = available_quarters(pack_warehouse(), today())
        unavailable = ""
    except WarehouseUnavailable as error:
        quarters, unavailable = [], str(error)
    chosen = period or (quarters[-1].key if quarters else "")
    return render_template(
        "reports/board_pack.html",
        title="Board pack",
        audience=audience,
        audience_items=_audience_choices(user, audience),
        period_items=[
            {"value": q.key, "text": q.label, "selected": q.key == chosen} for q in reversed(quarters)
        ],
        unavailable=unavailable,
        errors=errors,
        threshold=current_app.config["DISCLOSURE_THRESHOLD"],
    ), status


@blueprint.route("/reports/board-pack")
@login_required
def board_pack() -> Any:
    user = signed_in_user()
    if not may_download_board_pack(user):
        abort(403)
    audience = _audience_from(user, request.args.get("viewer"))
    return _page(user, audience, request.args.get("period", ""), {})


@blueprint.route("/reports/board-pack.xlsx")
@login_required
def board_pack_download() -> Any:
    user = signed_in_user()
    if not may_download_board_pack(user):
        abort(403)
    audience = _audience_from(user, request.args.get("viewer"))
    period = request.args.get("period", "").strip()
    errors = {}
    if audience is None:
        errors["viewer"] = CHOOSE_AUDIENCE
    if not period:
        errors["period"] = CHOOSE_PERIOD
    if errors:
        return _page(user, audience, period, errors, 400)
    assert audience is not None
    try:
        pack = make_board_pack(
            db.session(),
            pack_warehouse(),
            audience,
            period,
            threshold=int(current_app.config["DISCLOSURE_THRESHOLD"]),
            produced_on=today(),
        )
    except WarehouseUnavailable as error:
        return _page(user, audience, period, {"period": str(error)}, 503)
    except PackError as error:
        return _page(user, audience, period, {"period": str(error)}, 400)
    current_app.logger.info("board pack downloaded", extra={"viewer": audience.viewer, "period": period})
    return send_file(
        BytesIO(pack.content), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=pack.filename
    )


@blueprint.app_template_global()
def board_pack_offer() -> dict[str, str] | None:
    """For the performance page: a one-click download of the latest quarter's
    pack for commissioners and boards, the choosing page for administrators.
    None for providers, and when the warehouse has not been loaded."""
    user = signed_in_user()
    if not may_download_board_pack(user):
        return None
    try:
        quarters = available_quarters(pack_warehouse(), today())
    except WarehouseUnavailable:
        return None
    if not quarters:
        return None
    own = own_audience(user)
    if own is None:
        return {"href": url_for("reports.board_pack"), "text": "Make a board pack", "choose": ""}
    latest = quarters[-1]
    return {
        "href": url_for("reports.board_pack_download", period=latest.key),
        "text": f"Download the board pack for {latest.short_label} (Excel)",
        "choose": url_for("reports.board_pack"),
    }
