"""Form fields and helpers shared by every domain's forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from flask import render_template
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovTextInput
from sqlalchemy.orm import Session
from wtforms import DateField, Field, StringField

from monitor.db import db
from monitor.errors import ValidationFailed

T = TypeVar("T")


class GovDateField(DateField):
    """Day, month and year boxes, with a message that says how to fix a bad date."""

    widget = GovDateInput()

    def __init__(self, label: str | None = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, format="%d %m %Y", **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        # The widget unpacks raw_data into day, month and year boxes.
        self.raw_data = ([*valuelist, "", "", ""][:3]) if valuelist else None
        if not valuelist or not any(part.strip() for part in valuelist):
            self.data = None
            return
        if len(valuelist) != 3 or not all(part.strip() for part in valuelist):
            self.data = None
            raise ValueError(f"{self.label.text} must include a day, month and year")
        try:
            self.data = datetime.strptime(" ".join(p.strip() for p in valuelist), "%d %m %Y").date()
        except ValueError as error:
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date, like 4 11 2013") from error


class MoneyField(StringField):
    """Pounds, accepting what people type: 250000, 250,000.00 or £250,000."""

    widget = GovTextInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        self.raw = valuelist[0]
        text = valuelist[0].strip().replace(",", "").replace("£", "").strip()
        try:
            self.data = Decimal(text)
        except InvalidOperation as error:
            raise ValueError(
                f"Enter {self.label.text.lower()} as an amount in pounds, like 250000"
            ) from error
        if not self.data.is_finite():
            self.data = None
            raise ValueError(f"Enter {self.label.text.lower()} as an amount in pounds, like 250000")

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return f"{self.data:.2f}" if isinstance(self.data, Decimal) else ""


def first_error_target(field: Field) -> str:
    """The id the error summary links to: the day box for a date."""
    return f"{field.id}-day" if isinstance(field, GovDateField) else field.id


def error_list(form: FlaskForm) -> list[dict[str, str]]:
    """Errors in page order for the GOV.UK error summary."""
    items = []
    for field in form:
        if field.errors:
            items.append({"text": str(field.errors[0]), "href": f"#{first_error_target(field)}"})
    return items


def apply_service_errors(
    form: FlaskForm, errors: dict[str, str], aliases: dict[str, str] | None = None
) -> None:
    """Put business-rule messages from a service beside the matching fields."""
    aliases = aliases or {}
    for name, message in errors.items():
        field = getattr(form, aliases.get(name, name), None)
        if field is None:
            field = next(iter(form))
        field.errors = [*list(field.errors), message]


def save(form: FlaskForm, write: Callable[[Session], T]) -> T | None:
    """Run one write in one transaction. If the service refuses, nothing is
    kept and each message goes beside its field; the caller re-shows the form."""
    try:
        with db.transaction() as session:
            return write(session)
    except ValidationFailed as failed:
        apply_service_errors(form, failed.errors)
        return None


def form_page(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """A form page; 400 when it carries errors, so tools and tests can tell."""
    return render_template(template, form=form, **context), (400 if form.errors else 200)
