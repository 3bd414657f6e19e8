"""Administration: organisations, partnerships and their meeting dates. Admins only.

People are managed from monitor.people (admins and organisation admins)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from sqlalchemy import select
from wtforms import RadioField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from monitor.auth import services
from monitor.auth.models import Organisation, OrganisationKind, Partnership, Role
from monitor.clock import today
from monitor.db import db
from monitor.errors import NotFound, ValidationFailed
from monitor.formatting import day_text
from monitor.forms import GovDateField, form_page, save
from monitor.reports.delivery import DeliveryRules, meetings_with_status
from monitor.reports.meetings import add_meeting, meeting_of, removal_refused, remove_meeting

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


def admin_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user.role != Role.ADMIN:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


class OrganisationForm(FlaskForm):
    name = StringField(
        "Name", widget=GovTextInput(), validators=[InputRequired("Enter the organisation's name")]
    )
    kind = RadioField(
        "Kind",
        widget=GovRadioInput(),
        choices=[(k.value, k.value.capitalize()) for k in OrganisationKind],
        validators=[InputRequired("Choose commissioner, provider or funder")],
    )
    gss_code = StringField("GSS code (councils)", widget=GovTextInput(), description="For example, E09000002")
    charity_number = StringField("Charity number (optional)", widget=GovTextInput())
    company_number = StringField("Company number (optional)", widget=GovTextInput())
    submit = SubmitField("Add organisation", widget=GovSubmitInput())


class PartnershipForm(FlaskForm):
    name = StringField(
        "Board or forum", widget=GovTextInput(), validators=[InputRequired("Enter the board or forum's name")]
    )
    member_ids = SelectMultipleField(
        "Commissioners it oversees", widget=GovCheckboxesInput(), coerce=str, validate_choice=False
    )
    # Adding an organisation is the page's main action: one green button a page.
    submit = SubmitField(
        "Add partnership", widget=GovSubmitInput(), render_kw={"class": "govuk-button--secondary"}
    )


class MeetingForm(FlaskForm):
    meeting_date = GovDateField("Date of the meeting", description="For example, 20 5 2014")
    title = StringField(
        "Title (optional)",
        widget=GovTextInput(),
        description="For example, Quarterly performance meeting",
        validators=[Optional(), Length(max=200, message="The title must be 200 characters or fewer")],
    )
    submit = SubmitField("Add meeting", widget=GovSubmitInput())


class RemoveMeetingForm(FlaskForm):
    submit = SubmitField(
        "Remove meeting", widget=GovSubmitInput(), render_kw={"class": "govuk-button--warning"}
    )


@blueprint.route("")
@admin_only
def index() -> Any:
    """Where an admin's own pages start: one menu entry instead of five."""
    partnerships = db.session.scalars(select(Partnership).order_by(Partnership.name)).all()
    return render_template("admin/index.html", title="Admin", partnerships=partnerships)


@blueprint.route("/organisations", methods=["GET", "POST"])
@admin_only
def organisations() -> Any:
    form = OrganisationForm()
    if form.validate_on_submit():
        org = save(
            form,
            lambda session: services.create_organisation(
                session,
                name=form.name.data or "",
                kind=form.kind.data or "",
                gss_code=form.gss_code.data,
                charity_number=form.charity_number.data,
                company_number=form.company_number.data,
            ),
        )
        if org is not None:
            flash(f"{org.name} added", "success")
            return redirect(url_for("admin.organisations"))
    return _organisations_page(form, _partnership_form())


def _partnership_form() -> PartnershipForm:
    form = PartnershipForm(prefix="partnership")
    commissioners = select(Organisation).where(Organisation.kind == OrganisationKind.COMMISSIONER)
    form.member_ids.choices = [
        (str(o.id), o.name) for o in db.session.scalars(commissioners.order_by(Organisation.name))
    ]
    return form


def _organisations_page(form: OrganisationForm, partnership_form: PartnershipForm) -> Any:
    orgs = db.session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.name)).all()
    partnerships = db.session.scalars(select(Partnership).order_by(Partnership.name)).all()
    failed = bool(form.errors or partnership_form.errors)
    return render_template(
        "admin/organisations.html",
        title="Organisations",
        form=form,
        partnership_form=partnership_form,
        error_form=partnership_form if partnership_form.errors else form,
        organisations=orgs,
        partnerships=partnerships,
    ), (400 if failed else 200)


@blueprint.route("/partnerships", methods=["POST"])
@admin_only
def partnerships() -> Any:
    form = _partnership_form()
    if form.validate_on_submit():
        member_ids = [int(v) for v in form.member_ids.data or [] if v.isdigit()]
        partnership = save(
            form,
            lambda session: services.create_partnership(
                session, name=form.name.data or "", member_ids=member_ids
            ),
        )
        if partnership is not None:
            flash(f"{partnership.name} added", "success")
            return redirect(url_for("admin.organisations"))
    return _organisations_page(OrganisationForm(formdata=None), form)


@blueprint.route("/users")
@admin_only
def users() -> Any:
    """The old Users page, which took a password chosen for someone: people are
    now invited from the People pages and choose their own."""
    return redirect(url_for("people.index"), code=301)


def _partnership(partnership_id: int) -> Partnership:
    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None:
        abort(404)
    return partnership


@blueprint.route("/partnerships/<int:partnership_id>/meetings", methods=["GET", "POST"])
@admin_only
def meetings(partnership_id: int) -> Any:
    """A board's meetings with their packs' status, and a form to add one."""
    partnership = _partnership(partnership_id)
    form = MeetingForm()
    if form.validate_on_submit():
        meeting = save(
            form,
            lambda session: add_meeting(
                session, partnership, form.meeting_date.data, form.title.data or "", today()
            ),
        )
        if meeting is not None:
            flash(f"Meeting on {meeting.meeting_date.day} {meeting.meeting_date:%B %Y} added", "success")
            return redirect(url_for("admin.meetings", partnership_id=partnership.id))
    rules = DeliveryRules.from_config(current_app.config)
    upcoming, past = meetings_with_status(db.session(), partnership.id, today(), rules)
    return form_page(
        "admin/meetings.html",
        form,
        title=f"Meetings of {partnership.name}",
        partnership=partnership,
        upcoming=upcoming,
        past=past,
        working_days_before=rules.working_days_before,
        removable={m.id for m, _, _ in upcoming if removal_refused(db.session(), m, today()) is None},
    )


@blueprint.route(
    "/partnerships/<int:partnership_id>/meetings/<int:meeting_id>/remove", methods=["GET", "POST"]
)
@admin_only
def remove_meeting_page(partnership_id: int, meeting_id: int) -> Any:
    """Asks before removing; a meeting whose pack has gone, or that was held, stays."""
    partnership = _partnership(partnership_id)
    try:
        meeting = meeting_of(db.session(), partnership.id, meeting_id)
    except NotFound:
        abort(404)
    form = RemoveMeetingForm()
    refused = removal_refused(db.session(), meeting, today())
    if form.validate_on_submit() and refused is None:
        when = day_text(meeting.meeting_date)
        try:
            with db.transaction() as session:
                remove_meeting(session, meeting, today())
        except ValidationFailed as failed:
            refused = failed.errors["meeting"]
        else:
            flash(f"Meeting on {when} removed", "success")
            return redirect(url_for("admin.meetings", partnership_id=partnership.id))
    return render_template(
        "admin/remove_meeting.html",
        title="Remove a meeting",
        form=form,
        partnership=partnership,
        meeting=meeting,
        refused=refused,
    ), (409 if refused and request.method == "POST" else 200)
