"""Forms on the return pages. Shape checks only; the services judge the rest."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovSubmitInput,
    GovTextArea,
)
from wtforms import BooleanField, HiddenField, IntegerField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
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
