"""The forms of the benchmarking admin pages: shape only. Whether a date,
approver, region, group name or set of areas is acceptable is decided by
monitor.benchmarking.service, whose messages go beside these fields (each
field is named after the service's key for it)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, StopValidation

from monitor.benchmarking.vocabulary import REGIONS
from monitor.forms import GovDateField

OPTED_IN = "opted-in"
OPTED_OUT = "opted-out"
NO_REGION = ""


class DateRequired:
    """A date left blank gets its own message; a half-typed or impossible one
    already has GovDateField's."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: Any) -> None:
        if field.data is None and not field.errors:
            raise StopValidation(self.message)


class DecisionForm(FlaskForm):
    opted_in = RadioField(
        "What did the partnership decide?",
        widget=GovRadioInput(),
        choices=[
            (OPTED_IN, "Opted in: its figures may be compared with other areas'"),
            (OPTED_OUT, "Opted out: its figures are not shown or counted in any comparison"),
        ],
        validators=[InputRequired("Choose whether the partnership opted in or opted out")],
    )
    decided_on = GovDateField(
        "Date decided",
        description="The day the decision was made, for example 27 3 2013",
        validators=[DateRequired("Enter the date the partnership decided")],
    )
    approver_name = StringField(
        "Approved by",
        widget=GovTextInput(),
        description="The person who approved the decision for the partnership, for example Cllr Alex Morgan",
    )
    approver_role = StringField(
        "Their role (optional)",
        widget=GovTextInput(),
        description="For example, Chair of the Health and Wellbeing Board",
    )
    submit = SubmitField("Record decision", widget=GovSubmitInput())


class RegionForm(FlaskForm):
    # Not a listed-choice field: an unknown region gets the service's message,
    # which names the regions to choose from.
    region = SelectField(
        "Region",
        widget=GovSelect(),
        choices=[(NO_REGION, "No region"), *[(region, region) for region in REGIONS]],
        validate_choice=False,
        default=NO_REGION,
    )
    submit = SubmitField("Save region", widget=GovSubmitInput())


class GroupForm(FlaskForm):
    name = StringField("Group name", widget=GovTextInput(), description="For example, Outer London boroughs")
    description = TextAreaField(
        "Description (optional)",
        widget=GovTextArea(),
        description="What the areas have in common, for example similar deprivation and population",
    )
    # Choices are every partnership, set by the view; the service checks the
    # ids again, so a forged one gets a message rather than a member.
    members = SelectMultipleField(
        "Areas in the group", widget=GovCheckboxesInput(), coerce=str, validate_choice=False
    )
    submit = SubmitField("Save group", widget=GovSubmitInput())


class DeleteGroupForm(FlaskForm):
    submit = SubmitField(
        "Delete group", widget=GovSubmitInput(), render_kw={"class": "govuk-button--warning"}
    )
