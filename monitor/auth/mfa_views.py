"""Two-factor authentication: the second sign-in step, setting it up, recovery codes.

The sign-in pages (/sign-in/two-factor...) serve a person whose password was
right and who waits, "pending", for their second factor (see
monitor.auth.views.start_pending); the account pages serve a signed-in user.
The rules live in monitor.auth.mfa.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from sqlalchemy.orm import Session as DbSession
from werkzeug.wrappers import Response
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired

from monitor import secret_box
from monitor.auth import mfa
from monitor.auth.models import SignInMethod, User
from monitor.auth.sign_in import finish_sign_in, locked_refusal, refuse_attempt
from monitor.auth.views import pending_user, start_session, throttle
from monitor.clock import real_utcnow as utcnow  # security timing: the real clock, never pinned
from monitor.db import db

blueprint = Blueprint("mfa", __name__)

# A secret being set up, kept encrypted in the session until a code confirms it.
SETUP_KEY = "mfa_setup"
_CODE_ATTRS = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "spellcheck": "false",
    "autocapitalize": "none",
}


class CodeForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the 6-digit code from your authenticator app")],
        render_kw=_CODE_ATTRS,
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RecoveryCodeForm(FlaskForm):
    code = StringField(
        "Recovery code",
        widget=GovTextInput(),
        validators=[InputRequired("Enter one of your recovery codes")],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"},
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ConfirmForm(CodeForm):
    submit = SubmitField("Turn on two-factor authentication", widget=GovSubmitInput())


class TurnOffForm(CodeForm):
    submit = SubmitField("Turn off two-factor authentication", widget=GovSubmitInput())


class RegenerateForm(FlaskForm):
    submit = SubmitField("Get new recovery codes", widget=GovSubmitInput())


def _pending_or_restart() -> tuple[User, str] | Response:
    pending = pending_user()
    if pending is None:
        flash("Your sign-in took too long or has ended. Sign in again.", "info")
        return redirect(url_for("auth.sign_in"))
    return pending


def _client() -> str:
    return request.remote_addr or "-"


def _second_factor(
    user: User, method: SignInMethod, check: Callable[[DbSession], bool], wrong: str
) -> str | None:
    """Check a code in one transaction: None when it is accepted (the sign-in is
    finished and noted), else why not. A wrong code counts towards the lockout."""
    with db.transaction() as dbs:
        refusal = locked_refusal(dbs, user.email, throttle())
        if not refusal and check(dbs):
            finish_sign_in(dbs, user, method, throttle())
            return None
        return refuse_attempt(dbs, user.email, user, method, _client(), throttle(), utcnow()) or wrong


@blueprint.route("/sign-in/two-factor", methods=["GET", "POST"])
def verify() -> Any:
    pending = _pending_or_restart()
    if isinstance(pending, Response):
        return pending
    user, next_path = pending
    if not user.mfa_enabled:
        return redirect(url_for("mfa.setup_pending"))
    form = CodeForm()
    if form.validate_on_submit():
        refusal = _second_factor(
            user,
            SignInMethod.TWO_FACTOR,
            lambda _dbs: mfa.check_code(user, form.code.data or ""),
            "The code is not correct. Enter the code your authenticator app shows now",
        )
        if refusal is None:
            start_session(user)
            return redirect(next_path)
        form.code.errors = [*form.code.errors, refusal]
    return render_template("auth/two_factor.html", form=form), (400 if form.errors else 200)


@blueprint.route("/sign-in/two-factor/recovery-code", methods=["GET", "POST"])
def recover() -> Any:
    pending = _pending_or_restart()
    if isinstance(pending, Response):
        return pending
    user, next_path = pending
    if not user.mfa_enabled:
        return redirect(url_for("mfa.setup_pending"))
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        refusal = _second_factor(
            user,
            SignInMethod.RECOVERY_CODE,
            lambda dbs: mfa.use_recovery_code(dbs, user, form.code.data or ""),
            "That recovery code is not correct, or has been used. Each code works once",
        )
        if refusal is None:
            start_session(user)
            left = mfa.unused_recovery_codes(db.session(), user)
            flash(
                f"You used a recovery code: {left} left. Get new ones from your two-factor authentication page.",
                "info",
            )
            return redirect(next_path)
        form.code.errors = [*form.code.errors, refusal]
    return render_template("auth/two_factor_recovery.html", form=form), (400 if form.errors else 200)


def _setup_secret(user: User) -> str:
    """The secret this person is setting up: the same one until they confirm it."""
    kept = session.get(SETUP_KEY)
    if isinstance(kept, dict) and kept.get("user_id") == user.id:
        try:
            return secret_box.decrypt(str(kept["secret"]))
        except secret_box.SecretUnreadable:
            pass
    secret = mfa.new_secret()
    session[SETUP_KEY] = {"user_id": user.id, "secret": secret_box.encrypt(secret)}
    return secret


def _setup_page(user: User, form: ConfirmForm, secret: str, *, signing_in: bool) -> Any:
    return render_template(
        "auth/two_factor_set_up.html",
        form=form,
        secret=mfa.grouped(secret),
        qr_code=mfa.qr_code_svg(mfa.provisioning_uri(secret, user.email)),
        signing_in=signing_in,
        required=mfa.is_required(user, current_app.config),
    ), (400 if form.errors else 200)


_WRONG_SETUP_CODE = (
    "The code is not correct. Check the app shows the Commissioning monitor and enter its code now"
)


@blueprint.route("/sign-in/two-factor/set-up", methods=["GET", "POST"])
def setup_pending() -> Any:
    pending = _pending_or_restart()
    if isinstance(pending, Response):
        return pending
    user, next_path = pending
    if user.mfa_enabled:
        return redirect(url_for("mfa.verify"))
    secret = _setup_secret(user)
    form = ConfirmForm()
    if form.validate_on_submit():
        with db.transaction() as dbs:
            codes = mfa.enable(dbs, user, secret, form.code.data or "")
            if codes is not None:
                finish_sign_in(dbs, user, SignInMethod.TWO_FACTOR, throttle())
        if codes is not None:
            start_session(user)
            return render_template("auth/two_factor_codes.html", codes=codes, continue_url=next_path)
        form.code.errors = [*form.code.errors, _WRONG_SETUP_CODE]
    return _setup_page(user, form, secret, signing_in=True)


@blueprint.route("/account/two-factor")
@login_required
def manage() -> Any:
    user: User = current_user
    return render_template(
        "auth/two_factor_manage.html",
        required=mfa.is_required(user, current_app.config),
        codes_left=mfa.unused_recovery_codes(db.session(), user) if user.mfa_enabled else 0,
        regenerate=RegenerateForm(),
    )


@blueprint.route("/account/two-factor/set-up", methods=["GET", "POST"])
@login_required
def setup() -> Any:
    user: User = current_user
    if user.mfa_enabled:
        return redirect(url_for("mfa.manage"))
    secret = _setup_secret(user)
    form = ConfirmForm()
    if form.validate_on_submit():
        with db.transaction() as dbs:
            codes = mfa.enable(dbs, user, secret, form.code.data or "")
        if codes is not None:
            session.pop(SETUP_KEY, None)
            return render_template(
                "auth/two_factor_codes.html", codes=codes, continue_url=url_for("mfa.manage")
            )
        form.code.errors = [*form.code.errors, _WRONG_SETUP_CODE]
    return _setup_page(user, form, secret, signing_in=False)


@blueprint.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
def regenerate_codes() -> Any:
    user: User = current_user
    if not user.mfa_enabled:
        return redirect(url_for("mfa.manage"))
    form = RegenerateForm()
    if not form.validate_on_submit():
        abort(400)
    with db.transaction() as dbs:
        codes = mfa.new_recovery_codes(dbs, user)
    return render_template("auth/two_factor_codes.html", codes=codes, continue_url=url_for("mfa.manage"))


@blueprint.route("/account/two-factor/turn-off", methods=["GET", "POST"])
@login_required
def turn_off() -> Any:
    user: User = current_user
    if mfa.is_required(user, current_app.config):
        abort(403)
    if not user.mfa_enabled:
        return redirect(url_for("mfa.manage"))
    form = TurnOffForm()
    if form.validate_on_submit():
        with db.transaction() as dbs:
            accepted = mfa.check_code(user, form.code.data or "")
            if accepted:
                mfa.disable(dbs, user)
        if accepted:
            flash("Two-factor authentication is off", "success")
            return redirect(url_for("mfa.manage"))
        form.code.errors = [
            *form.code.errors,
            "The code is not correct. Enter the code your authenticator app shows now",
        ]
    return render_template("auth/two_factor_turn_off.html", form=form), (400 if form.errors else 200)
