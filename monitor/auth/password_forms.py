"""The fields where someone chooses a new password: one home for their labels
and messages (reset, change, accepting an invitation). The rule itself is
monitor.auth.password_policy, applied by the services."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput
from wtforms import PasswordField
from wtforms.validators import EqualTo, InputRequired

from monitor.auth.passwords import MIN_PASSWORD_LENGTH

PASSWORDS_DIFFER = "Enter the same password in both boxes"


def new_password_field(label: str = "New password") -> Any:
    return PasswordField(
        label,
        widget=GovPasswordInput(),
        description=(
            f"At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words together make a strong password."
        ),
        validators=[InputRequired("Enter a new password")],
        render_kw={"autocomplete": "new-password"},
    )


def confirm_password_field(label: str = "Confirm new password") -> Any:
    return PasswordField(
        label,
        widget=GovPasswordInput(),
        validators=[
            InputRequired("Enter the new password again"),
            EqualTo("password", message=PASSWORDS_DIFFER),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class NewPasswordFields:
    """The new password and its confirmation; mix into a FlaskForm."""

    password = new_password_field()
    confirm = confirm_password_field()
