"""Sign in and out, the idle timeout, and binding the signed-in user to each request.

Signing in asks for the email address first: an address whose domain signs
in through its organisation's provider is offered that; anyone else is asked
for their password, then (if they use two-factor authentication, or must)
for a code, in monitor.auth.mfa_views. A POST with both email and password
still signs in at once, for scripts and tests.
"""

from __future__ import annotations

import time
from typing import Any

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
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length

from monitor.audit import Actor, bind_actor, unbind_actor
from monitor.auth import mfa
from monitor.auth.models import SignInMethod, User
from monitor.auth.sign_in import Throttle, authenticate, finish_sign_in, normalise_email
from monitor.db import db
from monitor.security import same_site_path
from monitor.sso.routing import sso_settings_for_email

blueprint = Blueprint("auth", __name__)

# The session key of a sign-in that passed its password and waits for a second factor.
PENDING_KEY = "mfa_pending"
PENDING_SECONDS = 5 * 60
LAST_SEEN_KEY = "last_seen"


class EmailForm(FlaskForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter your email address"),
            Length(max=254, message="Enter an email address of 254 characters or fewer"),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class PasswordForm(FlaskForm):
    email = HiddenField(validators=[InputRequired("Enter your email address")])
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
    def forget_loaded_user() -> None:
        # The user and the form token are read afresh from this request's own
        # session cookie. A request shares `g` with an app context already
        # pushed (as tests do): a user kept there from another request would
        # skip load_user and its epoch check, and a form token kept from before
        # the session was cleared at sign-in would not match the new session.
        g.pop("_login_user", None)
        g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)

    @app.before_request
    def end_idle_session() -> Response | None:
        # Wall-clock time, not monitor.clock: the demo's "as at" date never moves.
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        now = int(time.time())
        idle_minutes = int(current_app.config["SESSION_IDLE_MINUTES"])
        last_seen = session.get(LAST_SEEN_KEY)
        if isinstance(last_seen, int) and now - last_seen > idle_minutes * 60:
            logout_user()
            session.clear()
            flash(f"You were signed out after {idle_minutes} minutes without activity", "info")
            next_path = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("auth.sign_in", next=next_path))
        session[LAST_SEEN_KEY] = now
        return None

    @app.before_request
    def bind_request_actor() -> None:
        if current_user.is_authenticated:
            g.audit_actor = bind_actor(Actor(current_user.id, current_user.email))

    @app.teardown_request
    def unbind_request_actor(_exc: BaseException | None) -> None:
        token = g.pop("audit_actor", None)
        if token is not None:
            unbind_actor(token)


def throttle() -> Throttle:
    return Throttle.from_config(current_app.config)


def safe_next(target: str | None) -> str:
    return same_site_path(target) or url_for("contracts.home")


def sign_in_as(user: User, method: SignInMethod, next_path: str | None) -> Response:
    """Every step passed: note it, start the session afresh and go where the person was going."""
    with db.transaction() as dbs:
        finish_sign_in(dbs, user, method, throttle())
    start_session(user)
    return redirect(safe_next(next_path))


def start_session(user: User) -> None:
    """A fresh session for `user`, after `finish_sign_in` is committed."""
    session.clear()
    login_user(user)
    session.permanent = True
    session[LAST_SEEN_KEY] = int(time.time())


def start_pending(user: User, next_path: str | None) -> None:
    """The password was right; the person still owes a second factor (or must set one up)."""
    session.clear()
    session[PENDING_KEY] = {
        "user_id": user.id,
        "epoch": user.session_epoch,
        "at": int(time.time()),
        "next": safe_next(next_path),
    }


def pending_user() -> tuple[User, str] | None:
    """The user waiting for their second factor and where they were going, unless it expired."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if int(time.time()) - int(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.get(User, int(pending.get("user_id", 0)))
    if user is None or not user.active or user.role is None or user.session_epoch != pending.get("epoch"):
        session.pop(PENDING_KEY, None)
        return None
    return user, str(pending.get("next") or url_for("contracts.register"))


def _password_page(form: PasswordForm, email: str) -> Any:
    change = url_for("auth.sign_in", email=email, next=request.args.get("next"))
    status = 400 if form.errors else 200
    return render_template("auth/sign_in_password.html", form=form, email=email, change_url=change), status


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("contracts.register"))
    next_path = request.args.get("next")
    if request.method == "POST" and "password" in request.form:
        form = PasswordForm()
        if not form.validate_on_submit():
            return _password_page(form, normalise_email(form.email.data or ""))
        with db.transaction() as dbs:
            outcome = authenticate(
                dbs, form.email.data or "", form.password.data or "", request.remote_addr or "-", throttle()
            )
        user = outcome.user
        if user is None:
            form.password.errors = [*form.password.errors, outcome.refusal]
            return _password_page(form, normalise_email(form.email.data or ""))
        if user.mfa_enabled:
            start_pending(user, next_path)
            return redirect(url_for("mfa.verify"))
        if mfa.is_required(user, current_app.config):
            start_pending(user, next_path)
            return redirect(url_for("mfa.setup_pending"))
        return sign_in_as(user, SignInMethod.PASSWORD, next_path)

    form_email = EmailForm(data={"email": request.args.get("email", "")} if request.method == "GET" else None)
    if form_email.validate_on_submit():
        email = normalise_email(form_email.email.data or "")
        settings = sso_settings_for_email(db.session(), email)
        if settings is not None:
            link = url_for(
                "sso.start", organisation_id=settings.organisation_id, email=email, next=safe_next(next_path)
            )
            return render_template(
                "auth/sign_in_sso.html", organisation=settings.organisation.name, link=link, email=email
            )
        return _password_page(PasswordForm(formdata=None, data={"email": email}), email)
    return render_template("auth/sign_in.html", form=form_email), (400 if form_email.errors else 200)


@blueprint.route("/sign-out", methods=["POST"])
@login_required
def sign_out() -> Response:
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.sign_in"))
