"""Passwords: forgotten-password reset by email, changing one's own, and the change a temporary password forces."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired

blueprint = Blueprint("passwords", __name__)


class ForgotPasswordForm(FlaskForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your email address")],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    submit = SubmitField("Send me a link", widget=GovSubmitInput())


@blueprint.route("/forgot-password", methods=["GET", "POST"])
def forgot() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        return render_template("auth/forgot_password_sent.html", email=form.email.data.strip(), hours=2)
    return render_template("auth/forgot_password.html", form=form), (400 if form.errors else 200)
