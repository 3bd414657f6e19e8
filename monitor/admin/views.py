"""Administration: organisations and users. Admins only."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from sqlalchemy import select
from wtforms import PasswordField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired

from monitor.auth import services
from monitor.auth.models import Organisation, OrganisationKind, Partnership, Role, User
from monitor.db import db
from monitor.forms import form_page, save

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
    submit = SubmitField("Add partnership", widget=GovSubmitInput())


class UserForm(FlaskForm):
    name = StringField(
        "Full name", widget=GovTextInput(), validators=[InputRequired("Enter the user's full name")]
    )
    email = StringField(
        "Email address", widget=GovTextInput(), validators=[InputRequired("Enter an email address")]
    )
    role = RadioField(
        "Role",
        widget=GovRadioInput(),
        choices=[(r.value, r.value.capitalize()) for r in Role],
        validators=[InputRequired("Choose a role")],
    )
    organisation = SelectField("Organisation (commissioners and providers)", widget=GovSelect(), coerce=str)
    partnership = SelectField("Partnership (board users)", widget=GovSelect(), coerce=str)
    password = PasswordField(
        "Temporary password", widget=GovPasswordInput(), description="At least 12 characters."
    )
    submit = SubmitField("Add user", widget=GovSubmitInput())


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


@blueprint.route("/users", methods=["GET", "POST"])
@admin_only
def users() -> Any:
    session = db.session()
    form = UserForm()
    form.organisation.choices = [("", "None")] + [
        (str(o.id), f"{o.name} ({o.kind})")
        for o in session.scalars(select(Organisation).order_by(Organisation.name))
    ]
    form.partnership.choices = [("", "None")] + [
        (str(p.id), p.name) for p in session.scalars(select(Partnership).order_by(Partnership.name))
    ]
    if form.validate_on_submit():
        org = (
            session.get(Organisation, int(form.organisation.data))
            if form.organisation.data.isdigit()
            else None
        )
        board = (
            session.get(Partnership, int(form.partnership.data)) if form.partnership.data.isdigit() else None
        )
        user = save(
            form,
            lambda dbs: services.create_user(
                dbs,
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data or "",
                password=form.password.data or "",
                organisation=org,
                partnership=board,
            ),
        )
        if user is not None:
            flash(f"{user.email} added", "success")
            return redirect(url_for("admin.users"))
    accounts = session.scalars(select(User).order_by(User.role, User.email)).all()
    return form_page("admin/users.html", form, title="Users", users=accounts)
