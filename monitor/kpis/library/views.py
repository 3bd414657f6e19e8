"""The KPI library pages: administrators list, add and change KPIs, and
add, change (error or warning) and delete the consistency rules between KPIs.

Commissioners choose from this library when they set up a framework, so a
change here affects every contract: only administrators may make one.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField, TextAreaField

from monitor.access.rules import can_change_library
from monitor.access.signed_in import signed_in_user
from monitor.db import db
from monitor.forms import form_page, save
from monitor.kpis.blueprint import blueprint
from monitor.kpis.library import definitions as library
from monitor.kpis.library.relations import RuleKind, RuleSeverity
from monitor.kpis.library.rules import ConsistencyRule
from monitor.kpis.models import Kpi
from monitor.kpis.vocabulary import Direction, KpiCategory, Unit


def admin_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not can_change_library(signed_in_user()):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    return [(member.value, member.value[:1].upper() + member.value[1:]) for member in enum]


class KpiForm(FlaskForm):
    # Shape only; every business rule (and its message) lives in library.py.
    code = StringField("Code", widget=GovTextInput(), description="Capitals and hyphens, like REF-RECEIVED")
    name = StringField("Name", widget=GovTextInput())
    definition = TextAreaField(
        "Definition",
        widget=GovTextArea(),
        description="In plain English: what to count, and what not to, so every provider counts the same way.",
    )
    unit = RadioField("Unit", widget=GovRadioInput(), choices=_choices(Unit))
    direction = RadioField("Which way is better", widget=GovRadioInput(), choices=_choices(Direction))
    category = RadioField("Category", widget=GovRadioInput(), choices=_choices(KpiCategory))
    rollup = RadioField(
        "How quarters add up to a year",
        widget=GovRadioInput(),
        choices=[
            ("sum", "Sum: add the four quarters (referrals, completions)"),
            ("mean", "Mean: average the quarters (percentages, waiting times)"),
            ("latest", "Latest: the last quarter's figure (caseload on the last day)"),
        ],
    )
    breakdowns = TextAreaField(
        "Breakdowns (optional)",
        widget=GovTextArea(),
        description="One per line, for example the sources of referrals: Police, Health, Self-referral.",
    )
    numerator_label = StringField(
        "Numerator (percentages only, optional)",
        widget=GovTextInput(),
        description="When providers give two counts and the percentage is worked out, "
        "for example Clients reporting feeling safer.",
    )
    denominator_label = StringField(
        "Denominator (percentages only, optional)",
        widget=GovTextInput(),
        description="For example, Clients asked at closure.",
    )
    active = BooleanField(
        "In use: commissioners can add it to frameworks", widget=GovCheckboxInput(), default=True
    )
    submit = SubmitField("Save KPI", widget=GovSubmitInput())

    def kpi_fields(self) -> library.KpiFields:
        return library.KpiFields(
            code=self.code.data or "",
            name=self.name.data or "",
            definition=self.definition.data or "",
            unit=self.unit.data or "",
            direction=self.direction.data or "",
            category=self.category.data or "",
            rollup=self.rollup.data or "",
            breakdowns=library.breakdown_lines(self.breakdowns.data or ""),
            numerator_label=self.numerator_label.data or "",
            denominator_label=self.denominator_label.data or "",
            active=bool(self.active.data),
        )


def _kpi_form(kpi: Kpi | None) -> KpiForm:
    # Plain values rather than obj=kpi: a field left out of a post would
    # otherwise fall back to the model's attribute (the breakdowns list).
    data = None
    if kpi is not None:
        data = {
            "code": kpi.code,
            "name": kpi.name,
            "definition": kpi.definition,
            "unit": kpi.unit,
            "direction": kpi.direction,
            "category": kpi.category,
            "rollup": kpi.rollup,
            "breakdowns": "\n".join(b.label for b in kpi.breakdowns),
            "numerator_label": kpi.numerator_label or "",
            "denominator_label": kpi.denominator_label or "",
            "active": kpi.active,
        }
    form = KpiForm(data=data)
    # Radios refuse anything off their list before the service sees it; the
    # service's own message is the clearer one, so let the value through.
    for radio in (form.unit, form.direction, form.category, form.rollup):
        radio.validate_choice = False
    return form


@blueprint.route("/kpis")
@admin_only
def library_list() -> Any:
    kpis = db.session.scalars(
        select(Kpi).options(selectinload(Kpi.breakdowns)).order_by(Kpi.category, Kpi.code)
    ).all()
    return render_template("kpis/library.html", title="KPI library", kpis=kpis)


@blueprint.route("/kpis/new", methods=["GET", "POST"])
@admin_only
def new_kpi() -> Any:
    user = signed_in_user()
    form = _kpi_form(None)
    if form.validate_on_submit():
        fields = form.kpi_fields()
        kpi = save(form, lambda session: library.create_kpi(session, user, fields))
        if kpi is not None:
            flash(f"KPI {kpi.code} added", "success")
            return redirect(url_for("kpis.library_list", _anchor=f"kpi-{kpi.code}"))
    return form_page("kpis/library_form.html", form, title="Add a KPI", kpi=None)


@blueprint.route("/kpis/<int:kpi_id>/edit", methods=["GET", "POST"])
@admin_only
def edit_kpi(kpi_id: int) -> Any:
    user = signed_in_user()
    kpi = db.session.get(Kpi, kpi_id)
    if kpi is None:
        abort(404)
    form = _kpi_form(kpi)
    if form.validate_on_submit():
        fields = form.kpi_fields()
        if save(form, lambda session: library.update_kpi(session, user, kpi, fields)) is not None:
            flash(f"KPI {kpi.code} saved", "success")
            return redirect(url_for("kpis.library_list", _anchor=f"kpi-{kpi.code}"))
    return form_page("kpis/library_form.html", form, title=f"Change {kpi.code}", kpi=kpi)


# How each kind of rule reads between its two KPIs on the rules page.
RULE_READS = {
    RuleKind.PART_OF: "is at most",
    RuleKind.DENOMINATOR: "is a percentage out of",
    RuleKind.BREAKDOWN: "is the sum of its breakdowns",
}


SEVERITY_CHOICES = [
    (RuleSeverity.ERROR.value, "It is refused until the figures are corrected"),
    (RuleSeverity.WARNING.value, "It is warned, and the provider confirms the figures when submitting"),
]


class RuleForm(FlaskForm):
    # Shape only: the service says what a missing or unknown choice means.
    severity = RadioField(
        "What happens to a return that breaks this rule", widget=GovRadioInput(), choices=SEVERITY_CHOICES
    )
    submit = SubmitField("Save rule", widget=GovSubmitInput())


class NewRuleForm(FlaskForm):
    kind = RadioField(
        "How the two KPIs relate",
        widget=GovRadioInput(),
        choices=[
            (RuleKind.PART_OF.value, "The first is part of the second, so it is at most the second"),
            (
                RuleKind.DENOMINATOR.value,
                "The first is a percentage out of the second: its denominator is that count",
            ),
        ],
    )
    kpi_id = SelectField("First KPI: the one the rule checks", widget=GovSelect(), coerce=str)
    related_kpi_id = SelectField("Second KPI: the one it is checked against", widget=GovSelect(), coerce=str)
    severity = RadioField(
        "What happens to a return that breaks this rule", widget=GovRadioInput(), choices=SEVERITY_CHOICES
    )
    submit = SubmitField("Add rule", widget=GovSubmitInput())

    def rule_fields(self) -> library.RuleFields:
        def kpi(text: str | None) -> int | None:
            return int(text) if text and text.isdigit() else None

        return library.RuleFields(
            kind=self.kind.data or "",
            kpi_id=kpi(self.kpi_id.data),
            related_kpi_id=kpi(self.related_kpi_id.data),
            severity=self.severity.data or "",
        )


class DeleteRuleForm(FlaskForm):
    # Nothing to fill in: the form carries the security token and the button.
    submit = SubmitField("Delete rule", widget=GovSubmitInput())


def _new_rule_form() -> NewRuleForm:
    form = NewRuleForm()
    kpis = db.session.execute(select(Kpi.id, Kpi.code, Kpi.name).order_by(Kpi.code)).all()
    choices = [("", "Choose a KPI")] + [(str(kpi_id), f"{code}: {name}") for kpi_id, code, name in kpis]
    form.kpi_id.choices = choices
    form.related_kpi_id.choices = choices
    # The service's messages are clearer than "Not a valid choice".
    for field in (form.kind, form.kpi_id, form.related_kpi_id, form.severity):
        field.validate_choice = False
    if not form.is_submitted():
        form.severity.data = RuleSeverity.ERROR.value
    return form


def _rule(rule_id: int) -> ConsistencyRule:
    rule = db.session.get(ConsistencyRule, rule_id)
    if rule is None:
        abort(404)
    return rule


@blueprint.route("/kpis/rules")
@admin_only
def library_rules() -> Any:
    rules = db.session.scalars(
        select(ConsistencyRule)
        .options(selectinload(ConsistencyRule.kpi), selectinload(ConsistencyRule.related_kpi))
        .order_by(ConsistencyRule.id)
    ).all()
    return render_template(
        "kpis/library_rules.html",
        title="Consistency rules",
        rules=rules,
        reads=RULE_READS,
        deletable={rule.id for rule in rules if library.why_rule_stays(rule) is None},
    )


@blueprint.route("/kpis/rules/new", methods=["GET", "POST"])
@admin_only
def new_rule() -> Any:
    user = signed_in_user()
    form = _new_rule_form()
    if form.validate_on_submit():
        fields = form.rule_fields()
        rule = save(form, lambda session: library.add_rule(session, user, fields))
        if rule is not None:
            flash(f"Rule added: {rule.label}", "success")
            return redirect(url_for("kpis.library_rules", _anchor=f"rule-{rule.id}"))
    return form_page("kpis/library_rule_new.html", form, title="Add a consistency rule")


@blueprint.route("/kpis/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@admin_only
def edit_rule(rule_id: int) -> Any:
    user = signed_in_user()
    rule = _rule(rule_id)
    form = RuleForm()
    # A post without a choice must reach the service as no choice, not as the rule's current one.
    if not form.is_submitted():
        form.severity.data = rule.severity
    form.severity.validate_choice = False
    if form.validate_on_submit():
        severity = form.severity.data or ""
        if save(form, lambda session: library.set_rule_severity(session, user, rule, severity)) is not None:
            flash(f"Rule saved: {rule.label}", "success")
            return redirect(url_for("kpis.library_rules", _anchor=f"rule-{rule.id}"))
    return form_page(
        "kpis/library_rule_form.html",
        form,
        title="Change a consistency rule",
        rule=rule,
        reads=RULE_READS,
        deletable=library.why_rule_stays(rule) is None,
    )


@blueprint.route("/kpis/rules/<int:rule_id>/delete", methods=["GET", "POST"])
@admin_only
def delete_rule(rule_id: int) -> Any:
    user = signed_in_user()
    rule = _rule(rule_id)
    form = DeleteRuleForm()
    if form.validate_on_submit():
        label = save(form, lambda session: library.delete_rule(session, user, rule))
        if label is not None:
            flash(f"Rule deleted: {label}", "success")
            return redirect(url_for("kpis.library_rules"))
    return form_page(
        "kpis/library_rule_delete.html",
        form,
        title="Delete a consistency rule",
        rule=rule,
        refusal=library.why_rule_stays(rule),
    )
