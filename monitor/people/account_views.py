"""Each person's own account: details, sign-in history, API tokens, signing out everywhere."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_login import login_required, logout_user
from werkzeug.wrappers import Response

from monitor.db import db
from monitor.errors import NotFound, ValidationFailed
from monitor.people import services
from monitor.people.forms import ButtonForm
from monitor.people.views import me

blueprint = Blueprint("account", __name__)

METHODS = {
    "password": "Password",
    "two_factor": "Password and two-factor code",
    "recovery_code": "Password and recovery code",
    "sso": "Single sign-on",
}
OUTCOMES = {
    "signed_in": "Signed in",
    "failed": "Failed",
    "locked": "Account locked",
    "signed_out_everywhere": "Signed out everywhere",
}


@blueprint.route("/account")
@login_required
def index() -> Any:
    user = me()
    dbs = db.session()
    return render_template(
        "account/index.html",
        title="Your account",
        user=user,
        history=services.history_of(dbs, user),
        tokens=services.api_tokens_of(dbs, user),
        methods=METHODS,
        outcomes=OUTCOMES,
        mfa_link=url_for("mfa.manage"),
        password_link=url_for("passwords.change"),
    )


@blueprint.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere() -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    with db.transaction() as dbs:
        services.sign_out_everywhere(dbs, me())
    logout_user()
    session.clear()
    flash("You have signed out everywhere: every session on every device has ended", "success")
    return redirect(url_for("auth.sign_in"))


@blueprint.route("/account/api-tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    user = me()
    try:
        with db.transaction() as dbs:
            services.revoke_api_token(dbs, user, user, token_id)
    except NotFound:
        abort(404)
    except ValidationFailed as failed:
        flash(next(iter(failed.errors.values())), "info")
        return redirect(url_for("account.index"))
    flash("API token revoked: it no longer works", "success")
    return redirect(url_for("account.index"))
