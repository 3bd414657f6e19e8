"""A contract's performance framework: read it, add a KPI, change a target
from a quarter on, and end an item. Thin: the rules are in framework_services."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextInput
from sqlalchemy import select
from wtforms import RadioField, SelectField, StringField, SubmitField

from monitor.access.rules import can_change
from monitor.access.signed_in import signed_in_user
from monitor.clock import today
from monitor.contracts.access import contract_for
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.forms import form_page, save
from monitor.kpis.blueprint import blueprint
from monitor.kpis.framework import services
from monitor.kpis.framework.history import framework_history, grouped_by_period
from monitor.kpis.models import FrameworkItem, Kpi
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.resubmission import accepted_lacking, accepted_note
from monitor.kpis.returns.template.rows import format_figure  # settings, written as entered

QUARTER_HINT = "Write the quarter like 2013-14-Q3 (Q1 is April to June, Q4 is January to March)."


class NumberField(StringField):
    """A number as people type it: 30, 87.5 or 1,250. Empty means none."""

    widget = GovTextInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        text = (valuelist[0] if valuelist else "").replace(",", "").replace("%", "").replace("£", "").strip()
        if not text:
            return
        try:
            number = Decimal(text)
        except InvalidOperation as error:
            raise ValueError(f"Enter the {self.label.text.lower()} as a number, like 30 or 87.5") from error
        if not number.is_finite():
            raise ValueError(f"Enter the {self.label.text.lower()} as a number, like 30 or 87.5")
        self.data = number

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return f"{self.data.normalize():f}" if isinstance(self.data, Decimal) else ""


def _direction_choices(kpi: Kpi | None) -> list[tuple[str, str]]:
    own = f"As the KPI ({kpi.direction})" if kpi else "As the KPI"
    return [("", own), ("higher is better", "Higher is better"), ("lower is better", "Lower is better")]


class TermsForm(FlaskForm):
    target = NumberField("Target", description="Leave empty to monitor the KPI without rating it.")
    target_basis = RadioField(
        "The target is",
        widget=GovRadioInput(),
        choices=[("quarter", "For each quarter"), ("year", "For the whole year")],
        default="quarter",
        validate_choice=False,
    )
    amber_tolerance_pct = NumberField(
        "Amber tolerance (per cent of the target)",
        description="How far short of the target is amber rather than red. Usually 10.",
        default=services.DEFAULT_TOLERANCE,
    )
    direction = RadioField("Which way is better", widget=GovRadioInput(), default="", validate_choice=False)

    def terms(self) -> services.ItemTerms:
        return services.ItemTerms(
            target=self.target.data,
            target_basis=self.target_basis.data or "",
            amber_tolerance_pct=self.amber_tolerance_pct.data,
            direction=self.direction.data or None,
        )


class ItemForm(TermsForm):
    kpi_id = SelectField("KPI", widget=GovSelect(), coerce=str, validate_choice=False)
    effective_from = StringField(
        "First quarter it applies to", widget=GovTextInput(), description=QUARTER_HINT
    )
    effective_to = StringField(
        "Last quarter it applies to (optional)",
        widget=GovTextInput(),
        description="Leave empty if it applies until changed.",
    )
    submit = SubmitField("Add to the framework", widget=GovSubmitInput())


class ChangeForm(TermsForm):
    from_quarter = StringField(
        "First quarter the change applies to",
        widget=GovTextInput(),
        description="Earlier quarters keep being judged by the old terms. " + QUARTER_HINT,
    )
    submit = SubmitField("Save the change", widget=GovSubmitInput())


class EndForm(FlaskForm):
    effective_to = StringField(
        "Last quarter it applies to",
        widget=GovTextInput(),
        description="Returns for later quarters will not ask for this KPI. " + QUARTER_HINT,
    )
    submit = SubmitField("End this item", widget=GovSubmitInput())


def _item_of(contract: Contract, item_id: int) -> FrameworkItem:
    item = db.session.get(FrameworkItem, item_id)
    if item is None or item.contract_id != contract.id:
        abort(404)
    return item


def _current_quarter() -> Quarter:
    return Quarter.containing(today())


@blueprint.route("/contracts/<int:contract_id>/framework")
@login_required
def framework(contract_id: int) -> Any:
    user = signed_in_user()
    session = db.session()
    contract = contract_for(session, user, contract_id)
    return render_template(
        "kpis/framework.html",
        title=f"Performance framework: {contract.reference}",
        contract=contract,
        periods=grouped_by_period(framework_history(session, [contract.id])),
        current=_current_quarter(),
        can_change=can_change(user, contract),
        format_figure=format_figure,
    )


@blueprint.route("/contracts/<int:contract_id>/framework/new", methods=["GET", "POST"])
@login_required
def new_framework_item(contract_id: int) -> Any:
    user = signed_in_user()
    session = db.session()
    contract = contract_for(session, user, contract_id, change=True)
    form = ItemForm()
    kpis = session.scalars(select(Kpi).where(Kpi.active.is_(True)).order_by(Kpi.category, Kpi.code)).all()
    form.kpi_id.choices = [("", "Choose a KPI"), *((str(k.id), f"{k.label} ({k.unit})") for k in kpis)]
    form.direction.choices = _direction_choices(None)
    if not form.is_submitted():
        form.effective_from.data = str(max(_current_quarter(), Quarter.containing(contract.start_date)))
    if form.validate_on_submit():
        raw_kpi = form.kpi_id.data or ""
        fields = services.ItemFields(
            kpi_id=int(raw_kpi) if raw_kpi.isdigit() else None,
            terms=form.terms(),
            effective_from=form.effective_from.data or "",
            effective_to=form.effective_to.data or "",
        )
        item = save(form, lambda s: services.add_item(s, user, contract, fields))
        if item is not None:
            # Accepted returns stay locked: say which lack the new KPI, so the commissioner can reopen them.
            lacking = accepted_note(item.kpi, accepted_lacking(session, item))
            flash(
                f"{item.kpi.code} added to the framework from {item.effective_from}"
                + (f". {lacking}" if lacking else ""),
                "success",
            )
            return redirect(url_for("kpis.framework", contract_id=contract.id))
    return form_page("kpis/framework_form.html", form, title="Add a KPI to the framework", contract=contract)


@blueprint.route("/contracts/<int:contract_id>/framework/<int:item_id>/change", methods=["GET", "POST"])
@login_required
def change_framework_item(contract_id: int, item_id: int) -> Any:
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    item = _item_of(contract, item_id)
    form = ChangeForm(obj=item)
    form.direction.choices = _direction_choices(item.kpi)
    if not form.is_submitted():
        form.direction.data = item.direction or ""
        form.from_quarter.data = max(str(_current_quarter()), item.effective_from)
    if form.validate_on_submit():
        terms, start = form.terms(), form.from_quarter.data or ""
        changed = save(form, lambda s: services.change_item(s, user, contract, item, terms, start))
        if changed is not None:
            flash(f"{changed.kpi.code}: the new terms apply from {changed.effective_from}", "success")
            return redirect(url_for("kpis.framework", contract_id=contract.id))
    return form_page(
        "kpis/framework_change.html",
        form,
        title=f"Change {item.kpi.code}",
        contract=contract,
        item=item,
        format_figure=format_figure,
    )


@blueprint.route("/contracts/<int:contract_id>/framework/<int:item_id>/end", methods=["GET", "POST"])
@login_required
def end_framework_item(contract_id: int, item_id: int) -> Any:
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    item = _item_of(contract, item_id)
    form = EndForm()
    if not form.is_submitted():
        form.effective_to.data = item.effective_to or max(str(_current_quarter()), item.effective_from)
    if form.validate_on_submit():
        last = form.effective_to.data or ""
        ended = save(form, lambda s: services.end_item(s, user, contract, item, last))
        if ended is not None:
            flash(f"{ended.kpi.code} ends after {ended.effective_to}", "success")
            return redirect(url_for("kpis.framework", contract_id=contract.id))
    return form_page(
        "kpis/framework_end.html",
        form,
        title=f"End {item.kpi.code}",
        contract=contract,
        item=item,
        format_figure=format_figure,
    )
