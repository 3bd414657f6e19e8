"""Sign in and out, and binding the signed-in user to each request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired

from monitor.audit import Actor, bind_actor, unbind_actor
from monitor.auth.models import User
from monitor.auth.services import Throttle, authenticate
from monitor.db import db

blueprint = Blueprint("auth", __name__)


class SignInForm(FlaskForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your email address")],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your password")],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


def install_login(app: Flask, login_manager: LoginManager) -> None:
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see that page"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        # "id.epoch" (User.get_id): a session from before the person signed
        # out everywhere, or was deactivated, carries an old epoch and ends here.
        user_id, _, epoch = session_id.partition(".")
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not user.active or user.role is None or epoch != str(user.session_epoch):
            return None
        return user

    @app.before_request
    def bind_request_actor() -> None:
        if current_user.is_authenticated:
            g.audit_actor = bind_actor(Actor(current_user.id, current_user.email))

    @app.teardown_request
    def unbind_request_actor(_exc: BaseException | None) -> None:
        token = g.pop("audit_actor", None)
        if token is not None:
            unbind_actor(token)


def _throttle() -> Throttle:
    config = current_app.config
    return Throttle(
        max_failures=config["LOGIN_MAX_FAILURES"],
        window=timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"]),
        lockout=timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]),
    )


def _safe_next(target: str | None) -> str:
    # Only same-site paths, so a crafted link cannot bounce users elsewhere.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("contracts.register")


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("contracts.register"))
    form = SignInForm()
    if form.validate_on_submit():
        with db.transaction() as dbs:
            outcome = authenticate(
                dbs,
                form.email.data or "",
                form.password.data or "",
                request.remote_addr or "-",
                _throttle(),
            )
        if outcome.user is not None:
            session.clear()
            login_user(outcome.user)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        form.email.errors = [*form.email.errors, outcome.refusal]
    return render_template("auth/sign_in.html", form=form), (400 if form.errors else 200)


@blueprint.route("/sign-out", methods=["POST"])
@login_required
def sign_out() -> Response:
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.sign_in"))
