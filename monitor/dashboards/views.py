"""The Dashboards pages and the guest-token endpoint the embedding script calls.

Thin views: who may see what is decided in `rls`, tokens come from `tokens`.
The page never talks to Superset on the browser's behalf beyond asking for a
token; the browser loads the dashboard from SUPERSET_PUBLIC_URL in an iframe.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_login import login_required

from monitor import security
from monitor.access.signed_in import signed_in_user
from monitor.access.viewers import (
    AdminChooses,
    NoDashboards,
    Viewer,
    choose_viewer,
    dashboard_access,
)
from monitor.auth.models import Role
from monitor.dashboards.catalogue import BY_SLUG, DASHBOARDS, Dashboard
from monitor.dashboards.tokens import (
    NOT_AVAILABLE,
    DashboardsUnavailable,
    public_origin,
    public_url,
    token_issuer,
)
from monitor.dashboards.viewers import admin_viewer_choices
from monitor.db import db

log = logging.getLogger(__name__)

blueprint = Blueprint("dashboards", __name__)

CHOOSE_VIEWER = "Choose an organisation or board from the list"


class _ViewerChoice:
    """Whose rows the page shows, and for administrators what they may choose from."""

    def __init__(self, viewer: Viewer | None, choices: list[Viewer], error: str | None) -> None:
        self.viewer = viewer
        self.choices = choices
        self.error = error

    def select_items(self) -> list[dict[str, Any]]:
        chosen = self.viewer.key if self.viewer else None
        return [{"value": "", "text": "Choose an organisation or board"}] + [
            {
                "value": v.key,
                "text": f"{v.name} ({'board: suppressed' if v.suppressed else 'own contracts: not suppressed'})",
                "selected": v.key == chosen,
            }
            for v in self.choices
        ]

    def query(self) -> dict[str, str]:
        """What links keep in their query string (an administrator's choice)."""
        return {"viewer": self.viewer.key} if self.viewer and self.choices else {}


def _viewer_choice(requested: str | None) -> _ViewerChoice | NoDashboards:
    user = signed_in_user()
    access = dashboard_access(user)
    if isinstance(access, NoDashboards):
        return access
    if isinstance(access, AdminChooses):
        choices = admin_viewer_choices(db.session())
        viewer = choose_viewer(requested, choices)
        return _ViewerChoice(viewer, choices, CHOOSE_VIEWER if requested and viewer is None else None)
    # Everyone else sees their own record's rows, whatever the request says.
    return _ViewerChoice(access, [], None)


def _refuse(refusal: NoDashboards) -> Any:
    return render_template(
        "dashboards/no_access.html", title="You cannot see dashboards", reason=refusal
    ), 403


def _dashboard(slug: str) -> Dashboard:
    dashboard = BY_SLUG.get(slug)
    if dashboard is None:
        abort(404)
    return dashboard


@blueprint.get("/dashboards")
@login_required
def index() -> Any:
    choice = _viewer_choice(request.args.get("viewer"))
    if isinstance(choice, NoDashboards):
        return _refuse(choice)
    return render_template(
        "dashboards/index.html",
        title="Dashboards",
        dashboards=DASHBOARDS,
        choice=choice,
        threshold=current_app.config["DISCLOSURE_THRESHOLD"],
    ), (400 if choice.error else 200)


@blueprint.get("/dashboards/<slug>")
@login_required
def show(slug: str) -> Any:
    dashboard = _dashboard(slug)
    choice = _viewer_choice(request.args.get("viewer"))
    if isinstance(choice, NoDashboards):
        return _refuse(choice)
    problem: DashboardsUnavailable | None = None
    if choice.viewer is not None:
        try:
            security.allow_frames_from(public_origin(current_app.config))
            if not token_issuer(current_app).available():
                problem = DashboardsUnavailable(
                    NOT_AVAILABLE,
                    f"Superset did not answer its health check at {current_app.config['SUPERSET_URL']}",
                )
        except DashboardsUnavailable as error:
            problem = error
    if problem is not None:
        log.warning("dashboards unavailable", extra={"dashboard": slug, "detail": problem.detail})
    status = 503 if problem else (400 if choice.error else 200)
    return render_template(
        "dashboards/dashboard.html",
        title=dashboard.title,
        dashboard=dashboard,
        choice=choice,
        problem=problem,
        show_detail=signed_in_user().role == Role.ADMIN,
        threshold=current_app.config["DISCLOSURE_THRESHOLD"],
    ), status


@blueprint.post("/dashboards/<slug>/guest-token")
@login_required
def guest_token(slug: str) -> Any:
    """A guest token for one dashboard, limited to the user's own rows (JSON)."""
    dashboard = BY_SLUG.get(slug)
    if dashboard is None:
        return jsonify({"message": "There is no dashboard at this address."}), 404
    choice = _viewer_choice(request.form.get("viewer"))
    if isinstance(choice, NoDashboards):
        return jsonify({"message": choice.reason}), 403
    if choice.viewer is None:
        return jsonify({"message": CHOOSE_VIEWER}), 400
    user = signed_in_user()
    try:
        superset_url = public_url(current_app.config)
        grant = token_issuer(current_app).issue(dashboard, choice.viewer, user.id)
    except DashboardsUnavailable as error:
        log.warning("no guest token", extra={"dashboard": slug, "detail": error.detail})
        message = error.message
        if user.role == Role.ADMIN and error.detail:
            message = f"{message} ({error.detail})"
        return jsonify({"message": message}), 503
    log.info("guest token issued", extra={"dashboard": slug, "viewer": choice.viewer.key, "user_id": user.id})
    return jsonify({"token": grant.token, "dashboardId": grant.embedded_id, "supersetDomain": superset_url})
