"""Forms for the register. Shape checks here; business rules in services."""

from __future__ import annotations

from enum import StrEnum

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from monitor.contracts.models import AgreementType, AmendmentKind, Category, Cohort, ServiceType
from monitor.forms import GovDateField, MoneyField


class OptionMonthsField(StringField):
    """Extension options as lengths in months, 1+1 years written '12, 12'."""

    widget = GovTextInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = []
        text = (valuelist[0] if valuelist else "").replace("+", ",")
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise ValueError("Enter extension options as months separated by commas, like 12, 12")
        self.data = [int(p) for p in parts]

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return ", ".join(str(m) for m in self.data or [])


def _choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    return [(member.value, member.value[:1].upper() + member.value[1:]) for member in enum]


class ContractForm(FlaskForm):
    reference = StringField(
        "Contract reference",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter the contract reference, like LBBD-DV-001"),
            Length(max=40),
        ],
    )
    title = StringField(
        "Service title",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the service title"), Length(max=200)],
    )
    description = TextAreaField(
        "Description",
        widget=GovTextArea(),
        description="What the service does. Never include details of anyone who uses it.",
        validators=[Optional(), Length(max=4000)],
    )
    service_type = SelectField(
        "Service type",
        widget=GovSelect(),
        choices=[("", "Choose a service type"), *_choices(ServiceType)],
        validators=[InputRequired("Choose the type of service")],
    )
    category = RadioField(
        "Category",
        widget=GovRadioInput(),
        choices=_choices(Category),
        validators=[InputRequired("Choose core, supporting or supplementary")],
    )
    agreement_type = RadioField(
        "Agreement type",
        widget=GovRadioInput(),
        choices=_choices(AgreementType),
        validators=[InputRequired("Choose contract, grant or SLA")],
    )
    cohorts = SelectMultipleField(
        "Who the service is for",
        widget=GovCheckboxesInput(),
        choices=_choices(Cohort),
        validate_choice=False,
    )
    provider_id = SelectField(
        "Provider",
        widget=GovSelect(),
        coerce=str,
        validators=[InputRequired("Choose the provider")],
    )
    lead_commissioner_id = SelectField(
        "Lead commissioner",
        widget=GovSelect(),
        coerce=str,
        validators=[InputRequired("Choose the lead commissioner")],
    )
    partner_commissioner_ids = SelectMultipleField(
        "Partner commissioners",
        widget=GovCheckboxesInput(),
        description="Other authorities commissioning the service jointly.",
        validate_choice=False,
    )
    award_date = GovDateField("Award date (optional)", validators=[Optional()])
    start_date = GovDateField("Start date", description="For example, 4 11 2013")
    end_date = GovDateField("End date of the initial term", description="For example, 3 11 2014")
    notice_period_months = IntegerField(
        "Notice period in months",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter the notice period in months, like 6"),
            NumberRange(0, 60, "Enter the notice period as a whole number of months from 0 to 60"),
        ],
    )
    option_months = OptionMonthsField(
        "Extension options in months",
        description="Each option's length, in order. For 1+1 years enter 12. For 2+1+1 years enter 12, 12.",
    )
    annual_value = MoneyField("Annual value in pounds")
    initial_value = MoneyField(
        "Value of the initial term in pounds",
        description="As awarded, without extension options. The total of the terms in force is worked "
        "out from it as extensions, value changes and endings are recorded.",
    )
    contract_manager = StringField(
        "Contract manager",
        widget=GovTextInput(),
        description="The commissioning officer responsible.",
    )
    submit = SubmitField("Save contract", widget=GovSubmitInput())


class ExtensionForm(FlaskForm):
    option_id = RadioField("Option to exercise", widget=GovRadioInput(), coerce=str)
    effective_date = GovDateField("Date of the decision", description="For example, 26 9 2013")
    planned = BooleanField(
        "Planned: the decision is agreed to be taken on a later date", widget=GovCheckboxInput()
    )
    rationale = TextAreaField("Reason for extending", widget=GovTextArea())
    approved_by = StringField(
        "Approved by", widget=GovTextInput(), description="For example, Health and Wellbeing Board"
    )
    board_minute_reference = StringField("Board minute reference (optional)", widget=GovTextInput())
    submit = SubmitField("Continue", widget=GovSubmitInput())


class AmendmentForm(FlaskForm):
    kind = RadioField(
        "Kind of amendment",
        widget=GovRadioInput(),
        choices=[
            (k.value, k.value[:1].upper() + k.value[1:])
            for k in AmendmentKind
            if k != AmendmentKind.EXTENSION
        ],
        validators=[InputRequired("Choose the kind of amendment")],
    )
    effective_date = GovDateField(
        "Date it takes effect",
        description="For a termination or decommissioning, the last day of service.",
    )
    planned = BooleanField("Planned: agreed now to take effect after today", widget=GovCheckboxInput())
    new_value = MoneyField("New total value in pounds (value changes only)")
    rationale = TextAreaField("Reason", widget=GovTextArea())
    approved_by = StringField("Approved by", widget=GovTextInput())
    board_minute_reference = StringField("Board minute reference (optional)", widget=GovTextInput())
    submit = SubmitField("Record amendment", widget=GovSubmitInput())


class CorrectionForm(FlaskForm):
    """Corrects the record of a decision; the original stays in the history."""

    rationale = TextAreaField("Reason, as it should read", widget=GovTextArea())
    approved_by = StringField("Approved by", widget=GovTextInput())
    board_minute_reference = StringField("Board minute reference (optional)", widget=GovTextInput())
    submit = SubmitField("Record correction", widget=GovSubmitInput())


class FundingForm(FlaskForm):
    funder_id = SelectField(
        "Funder", widget=GovSelect(), coerce=str, validators=[InputRequired("Choose the funder")]
    )
    funding_stream = StringField(
        "Funding stream", widget=GovTextInput(), description="For example, Public Health Grant"
    )
    financial_year = StringField("Financial year", widget=GovTextInput(), description="For example, 2013/14")
    amount = MoneyField("Amount in pounds")
    submit = SubmitField("Save funding line", widget=GovSubmitInput())


class MilestoneForm(FlaskForm):
    title = StringField("Milestone", widget=GovTextInput(), description="For example, Award contract")
    due_date = GovDateField("Due date")
    submit = SubmitField("Add milestone", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button with only a CSRF token, for deletions and small actions."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())
