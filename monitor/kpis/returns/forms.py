"""Forms on the return pages. Shape checks only; the services judge the rest."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
)
from wtforms import BooleanField, Field, HiddenField, IntegerField, RadioField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, StopValidation
from wtforms.widgets import HiddenInput

MAX_COMMENT = 4000


class UploadForm(FlaskForm):
    file = FileField(
        "Upload the completed workbook",
        widget=GovFileInput(),
        description="The Excel workbook (.xlsx) downloaded for this quarter, with the figures filled in.",
        validators=[FileRequired("Select the completed return workbook (.xlsx) to upload")],
    )
    save_draft = SubmitField("Check and save as draft", widget=GovSubmitInput())
    submit_return = SubmitField("Check and submit", widget=GovSubmitInput())


class ConfirmWarningsForm(FlaskForm):
    token = HiddenField()
    acknowledge = BooleanField(
        "I have read these warnings and want to submit anyway",
        widget=GovCheckboxInput(),
        validators=[DataRequired("Confirm that you have read the warnings, or upload a corrected workbook")],
    )
    confirm = SubmitField("Save the return", widget=GovSubmitInput())


class _ReviewForm(FlaskForm):
    # The revision the commissioner looked at: acting on a page that is out of
    # date (the provider uploaded again meanwhile) is refused.
    revision = IntegerField(widget=HiddenInput(), validators=[Optional()])


class QueryForm(_ReviewForm):
    comment = TextAreaField(
        "What should the provider check or correct?",
        widget=GovTextArea(),
        description="The provider sees this comment. Do not include details of anyone who uses the service.",
        validators=[
            InputRequired("Enter a comment telling the provider what to check or correct"),
            Length(max=MAX_COMMENT, message=f"Keep the comment to {MAX_COMMENT} characters or fewer"),
        ],
    )
    query = SubmitField("Query the return", widget=GovSubmitInput())


class AcceptForm(_ReviewForm):
    # Optional: a note for the provider, kept with the acceptance in the return's history.
    comment = TextAreaField(
        "Comment for the provider (optional)",
        widget=GovTextArea(),
        validators=[
            Optional(),
            Length(max=MAX_COMMENT, message=f"Keep the comment to {MAX_COMMENT} characters or fewer"),
        ],
    )
    accept = SubmitField("Accept the return", widget=GovSubmitInput())


class ReopenForm(_ReviewForm):
    reason = TextAreaField(
        "Why are you reopening this return?",
        widget=GovTextArea(),
        description="The provider sees this reason.",
        validators=[
            InputRequired("Enter the reason for reopening the return"),
            Length(max=MAX_COMMENT, message=f"Keep the reason to {MAX_COMMENT} characters or fewer"),
        ],
    )
    reopen = SubmitField("Reopen the return", widget=GovSubmitInput())


# The reviewer's one decision -------------------------------------------------------

ACCEPT, QUERY, REOPEN = "accept", "query", "reopen"
DECISION_MISSING = "Select whether to accept the return or query it"
QUERY_COMMENT_MISSING = "Enter a comment telling the provider what to check or correct"
REOPEN_REASON_MISSING = "Enter the reason for reopening the return"


class DecisionForm(FlaskForm):
    """The review page's one form: accept or query a submitted return (or,
    once accepted, reopen it). Accepting and reopening go on to a page to
    check the decision; a query, which the provider answers, goes straight
    through. `allowed` is what the return's state lets the reviewer decide."""

    decision = RadioField(
        "What is your decision?",
        widget=GovRadioInput(),
        choices=[(ACCEPT, "Accept the return"), (QUERY, "Query the return")],
        validate_choice=False,  # checked below, in words, against what the state allows
    )
    comment = TextAreaField(
        "What should the provider check or correct?",
        widget=GovTextArea(),
        description="The provider sees this. Only figures about the service: never names or "
        "details of anyone who uses it.",
    )
    revision = IntegerField(widget=HiddenInput(), validators=[Optional()])
    continue_ = SubmitField("Continue", widget=GovSubmitInput())

    def __init__(self, *args: object, allowed: tuple[str, ...] = (ACCEPT, QUERY), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.allowed = allowed

    def validate_decision(self, field: Field) -> None:
        if field.data not in self.allowed:
            field.data = None
            raise StopValidation(DECISION_MISSING)

    def validate_comment(self, field: Field) -> None:
        text = (field.data or "").strip()
        field.data = text
        decision = self.decision.data
        if decision == QUERY and not text:
            raise StopValidation(QUERY_COMMENT_MISSING)
        if decision == REOPEN and not text:
            raise StopValidation(REOPEN_REASON_MISSING)
        if len(text) > MAX_COMMENT:
            raise StopValidation(f"Keep the comment to {MAX_COMMENT} characters or fewer")
