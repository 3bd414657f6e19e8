"""Passwords: forgotten-password reset by email, changing one's own, and the change a temporary password forces.

The views only translate forms to and from monitor.auth.password_reset.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Regexp

from monitor.auth.emails import service_link
from monitor.auth.password_forms import NewPasswordFields
from monitor.auth.password_reset import (
    LinkNotValid,
    ResetLimits,
    change_password,
    only_signs_in_with_sso,
    request_reset,
    reset_password,
    user_for_link,
)
from monitor.auth.passwords import MIN_PASSWORD_LENGTH
from monitor.auth.services import EMAIL_PATTERN
from monitor.db import db
from monitor.errors import ValidationFailed

blueprint = Blueprint("passwords", __name__)

# What a person who must change a temporary password may still reach.
OPEN_DURING_FORCED_CHANGE = {"static", "auth.sign_out", "passwords.change", "health.healthz"}


class ForgotPasswordForm(FlaskForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter your email address"),
            Length(max=254, message="Enter an email address of 254 characters or fewer"),
            Regexp(
                EMAIL_PATTERN, message="Enter an email address in the correct format, like name@example.org"
            ),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    submit = SubmitField("Send me a link", widget=GovSubmitInput())


class ResetPasswordForm(NewPasswordFields, FlaskForm):
    submit = SubmitField("Save new password", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your current password")],
        render_kw={"autocomplete": "current-password"},
    )
    password = NewPasswordFields.password
    confirm = NewPasswordFields.confirm
    submit = SubmitField("Change password", widget=GovSubmitInput())


def _show_errors(form: FlaskForm, failed: ValidationFailed) -> None:
    for name, message in failed.errors.items():
        field = form[name]
        field.errors = [*field.errors, message]


def _reset_link(token: str) -> str:
    return service_link(url_for("passwords.reset", token=token))


@blueprint.context_processor
def password_rule() -> dict[str, int]:
    return {"min_length": MIN_PASSWORD_LENGTH}


@blueprint.after_request
def no_referrer(response: Response) -> Response:
    # The reset link's token is in the URL: never let it travel in a Referer header.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.before_app_request
def require_own_password() -> Response | None:
    """Someone signed in with a password another person chose changes it before anything else."""
    endpoint = request.endpoint or ""
    if endpoint in OPEN_DURING_FORCED_CHANGE or endpoint.startswith("mfa."):
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("passwords.change"))
    return None


@blueprint.route("/forgot-password", methods=["GET", "POST"])
def forgot() -> Any:
    form = ForgotPasswordForm()
    limits = ResetLimits.from_config(current_app.config)
    if form.validate_on_submit():
        email = (form.email.data or "").strip()
        with db.transaction() as dbs:
            # The outcome is deliberately unused: the page is the same whatever happened.
            request_reset(dbs, email, request.remote_addr or "-", limits, _reset_link)
        hours = int(limits.link_lifetime.total_seconds() // 3600)
        return render_template("auth/forgot_password_sent.html", email=email, hours=hours)
    return render_template("auth/forgot_password.html", form=form), (400 if form.errors else 200)


@blueprint.route("/reset-password/<token>", methods=["GET", "POST"])
def reset(token: str) -> Any:
    form = ResetPasswordForm()
    email, done = "", False
    try:
        with db.transaction() as dbs:
            email = user_for_link(dbs, token).email
            if form.validate_on_submit():
                reset_password(dbs, token, form.password.data or "")
                done = True
    except LinkNotValid:
        return render_template("auth/reset_password_expired.html"), 410
    except ValidationFailed as failed:
        _show_errors(form, failed)
    if done:
        return render_template("auth/reset_password_done.html")
    return render_template("auth/reset_password.html", form=form, email=email), (400 if form.errors else 200)


@blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
def change() -> Any:
    user = current_user._get_current_object()
    if only_signs_in_with_sso(user):
        return render_template("auth/change_password_sso.html")
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as dbs:
                change_password(dbs, user, form.current_password.data or "", form.password.data or "")
        except ValidationFailed as failed:
            _show_errors(form, failed)
        else:
            # Every other session ended with the epoch; this one carries on under the new one.
            login_user(user)
            session.permanent = True
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("contracts.register"))
    return render_template("auth/change_password.html", form=form, forced=user.must_change_password), (
        400 if form.errors else 200
    )
