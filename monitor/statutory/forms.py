"""The form choosing which contracts count towards the statutory return."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovSubmitInput
from wtforms import SelectMultipleField, SubmitField


class SafeAccommodationForm(FlaskForm):
    # Choices are the authority's contracts live that year, set by the view;
    # the service checks again, so a forged id gets a message, not a flag.
    contract_ids = SelectMultipleField(
        "Contracts that provide relevant safe accommodation",
        widget=GovCheckboxesInput(),
        coerce=str,
        validate_choice=False,
    )
    submit = SubmitField("Save contracts", widget=GovSubmitInput())
