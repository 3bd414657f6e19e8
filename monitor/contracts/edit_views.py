"""Pages that change the register. Each parses its form, calls one service in
one transaction, and shows every message beside its field on failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from monitor.access.rules import can_create_contracts
from monitor.access.signed_in import signed_in_user
from monitor.auth.models import OrganisationKind
from monitor.clock import today
from monitor.contracts import services
from monitor.contracts.access import contract_for, organisation_choices
from monitor.contracts.blueprint import blueprint
from monitor.contracts.dates import offered_options, terms_of
from monitor.contracts.forms import (
    AmendmentForm,
    ConfirmForm,
    ContractForm,
    CorrectionForm,
    ExtensionForm,
    FundingForm,
    MilestoneForm,
)
from monitor.contracts.models import Contract, FundingLine
from monitor.contracts.renewal import extend_end, options_lapsed
from monitor.db import db
from monitor.errors import ValidationFailed
from monitor.forms import apply_service_errors, form_page, save

T = TypeVar("T")


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _contract_form(contract: Contract | None = None) -> ContractForm:
    session = db.session()
    form = ContractForm(obj=contract)
    form.provider_id.choices = organisation_choices(
        session, OrganisationKind.PROVIDER, blank="Choose a provider"
    )
    commissioners = organisation_choices(session, OrganisationKind.COMMISSIONER)
    form.lead_commissioner_id.choices = [("", "Choose the lead commissioner"), *commissioners]
    form.partner_commissioner_ids.choices = commissioners
    if contract is not None and not form.is_submitted():
        form.provider_id.data = str(contract.provider_id)
        form.lead_commissioner_id.data = str(contract.lead_commissioner_id)
        form.partner_commissioner_ids.data = [str(o.id) for o in contract.partner_commissioners]
        form.cohorts.data = contract.cohorts
        form.end_date.data = contract.original_end_date
        form.option_months.data = [o.length_months for o in contract.options]
    elif contract is None and not form.is_submitted():
        user = signed_in_user()
        form.lead_commissioner_id.data = str(user.organisation_id or "")
        form.notice_period_months.data = 6
    return form


def _contract_fields(form: ContractForm, option_months: list[int]) -> services.ContractFields:
    return services.ContractFields(
        reference=form.reference.data or "",
        title=form.title.data or "",
        description=form.description.data or "",
        service_type=form.service_type.data or "",
        category=form.category.data or "",
        agreement_type=form.agreement_type.data or "",
        provider_id=_int_or_none(form.provider_id.data),
        lead_commissioner_id=_int_or_none(form.lead_commissioner_id.data),
        partner_commissioner_ids=[int(v) for v in form.partner_commissioner_ids.data or [] if v.isdigit()],
        cohorts=list(form.cohorts.data or []),
        award_date=form.award_date.data,
        start_date=form.start_date.data,
        end_date=form.end_date.data,
        notice_period_months=form.notice_period_months.data,
        annual_value=form.annual_value.data,
        initial_value=form.initial_value.data,
        contract_manager=form.contract_manager.data or "",
        option_months=option_months,
    )


@blueprint.route("/contracts/new", methods=["GET", "POST"])
@login_required
def new_contract() -> Any:
    user = signed_in_user()
    if not can_create_contracts(user):
        abort(403)
    form = _contract_form()
    if form.validate_on_submit():
        fields = _contract_fields(form, list(form.option_months.data or []))
        contract = save(form, lambda session: services.create_contract(session, user, fields))
        if contract is not None:
            flash(f"Contract {contract.reference} added", "success")
            return redirect(url_for("contracts.contract", contract_id=contract.id))
    return form_page("contracts/contract_form.html", form, title="Add a contract", contract=None)


@blueprint.route("/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@login_required
def edit_contract(contract_id: int) -> Any:
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    form = _contract_form(contract)
    del form.option_months  # options change through extensions and amendments
    if form.validate_on_submit():
        fields = _contract_fields(form, [o.length_months for o in contract.options])
        if save(form, lambda session: services.update_contract(session, user, contract, fields)):
            flash("Contract details saved", "success")
            return redirect(url_for("contracts.contract", contract_id=contract.id))
    return form_page(
        "contracts/contract_form.html", form, title=f"Change {contract.reference}", contract=contract
    )


def _submit(form: FlaskForm, check: Callable[[], dict[str, str]], write: Callable[[Session], T]) -> T | None:
    """Shape and business rules together, so every message shows at once.

    Where a field is malformed (a date that is not a date), its shape message is
    kept and the rules add theirs to the other fields; nothing is written.
    """
    if form.validate():
        return save(form, write)
    shaped = {name for name, messages in form.errors.items() if messages}
    apply_service_errors(form, {name: m for name, m in check().items() if name not in shaped})
    return None


def _amendment_fields(form: ExtensionForm | AmendmentForm, kind: str) -> services.AmendmentFields:
    return services.AmendmentFields(
        kind=kind,
        effective_date=form.effective_date.data,
        rationale=form.rationale.data or "",
        approved_by=form.approved_by.data or "",
        board_minute_reference=form.board_minute_reference.data or "",
        new_value=form.new_value.data if isinstance(form, AmendmentForm) else None,
        planned=bool(form.planned.data),
    )


@blueprint.route("/contracts/<int:contract_id>/extend", methods=["GET", "POST"])
@login_required
def exercise_extension(contract_id: int) -> Any:
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    form = ExtensionForm()
    available = offered_options(contract, today())
    form.option_id.choices = [
        (str(o.id), f"{o.label}: ends {extend_end(contract.end_date, o.length_months):%-d %B %Y}")
        for o in available[:1]
    ]
    if available and not form.is_submitted():
        form.option_id.data = str(available[0].id)
    if form.is_submitted():
        fields = _amendment_fields(form, "extension")
        option_id = _int_or_none(form.option_id.data)
        amendment = _submit(
            form,
            lambda: services.check_extension(contract, option_id, fields, today()),
            lambda session: services.exercise_extension(session, user, contract, option_id, fields),
        )
        if amendment is not None:
            flash(
                f"Extension exercised: the contract now ends on {amendment.new_end_date:%-d %B %Y}",
                "success",
            )
            return redirect(url_for("contracts.contract", contract_id=contract.id))
    return form_page(
        "contracts/extension_form.html",
        form,
        title=f"Exercise an extension: {contract.reference}",
        contract=contract,
        available=available,
        lapsed=options_lapsed(terms_of(contract), today()),
    )


@blueprint.route("/contracts/<int:contract_id>/amendments/new", methods=["GET", "POST"])
@login_required
def record_amendment(contract_id: int) -> Any:
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    form = AmendmentForm()
    if form.is_submitted():
        fields = _amendment_fields(form, form.kind.data or "")
        saved = _submit(
            form,
            lambda: services.check_amendment(contract, fields, today()),
            lambda session: services.record_amendment(session, user, contract, fields),
        )
        if saved is not None:
            flash("Amendment recorded", "success")
            return redirect(url_for("contracts.contract", contract_id=contract.id))
    return form_page(
        "contracts/amendment_form.html",
        form,
        title=f"Record an amendment: {contract.reference}",
        contract=contract,
    )


@blueprint.route(
    "/contracts/<int:contract_id>/amendments/<int:amendment_id>/correct", methods=["GET", "POST"]
)
@login_required
def correct_amendment(contract_id: int, amendment_id: int) -> Any:
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    original = next((a for a in contract.decisions if a.id == amendment_id), None)
    if original is None:
        abort(404)
    current = original.latest_correction or original
    form = CorrectionForm(obj=None if request.method == "POST" else current)
    if form.validate_on_submit():
        rationale, approved_by = form.rationale.data or "", form.approved_by.data or ""
        minute = form.board_minute_reference.data or ""
        correction = save(
            form,
            lambda session: services.correct_amendment(
                session,
                user,
                contract,
                original,
                rationale=rationale,
                approved_by=approved_by,
                board_minute_reference=minute,
            ),
        )
        if correction is not None:
            flash("Correction recorded; the original amendment is kept in the history", "success")
            return redirect(url_for("contracts.contract", contract_id=contract.id, _anchor="amendments"))
    return form_page(
        "contracts/correction_form.html",
        form,
        title=f"Correct an amendment: {contract.reference}",
        contract=contract,
        original=original,
    )


@blueprint.route("/contracts/<int:contract_id>/options/<int:option_id>/decline", methods=["POST"])
@login_required
def decline_option(contract_id: int, option_id: int) -> Any:
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with db.transaction() as session:
            option = services.decline_option(session, user, contract, option_id)
    except ValidationFailed as failed:
        flash(next(iter(failed.errors.values())), "info")
    else:
        flash(f"Option {option.sequence} declined", "success")
    return redirect(url_for("contracts.contract", contract_id=contract.id))


def _funding_form(line: FundingLine | None = None) -> FundingForm:
    form = FundingForm(obj=line)
    form.funder_id.choices = organisation_choices(
        db.session(),
        OrganisationKind.FUNDER,
        OrganisationKind.COMMISSIONER,
        blank="Choose a funder",
    )
    if line is not None and not form.is_submitted():
        form.funder_id.data = str(line.funder_id)
    return form


def _funding_fields(form: FundingForm) -> services.FundingFields:
    return services.FundingFields(
        funder_id=_int_or_none(form.funder_id.data),
        funding_stream=form.funding_stream.data or "",
        financial_year=form.financial_year.data or "",
        amount=form.amount.data,
    )


@blueprint.route("/contracts/<int:contract_id>/funding/new", methods=["GET", "POST"])
@blueprint.route("/contracts/<int:contract_id>/funding/<int:line_id>/edit", methods=["GET", "POST"])
@login_required
def funding_line(contract_id: int, line_id: int | None = None) -> Any:
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    line = next((x for x in contract.funding_lines if x.id == line_id), None)
    if line_id is not None and line is None:
        abort(404)
    form = _funding_form(line)
    if form.validate_on_submit():
        fields = _funding_fields(form)
        saved = save(
            form,
            lambda session: (
                services.add_funding_line(session, user, contract, fields)
                if line is None
                else services.update_funding_line(session, user, contract, line, fields)
            ),
        )
        if saved is not None:
            flash("Funding line saved", "success")
            return redirect(url_for("contracts.contract", contract_id=contract.id, _anchor="funding"))
    title = "Add a funding line" if line is None else "Change a funding line"
    return form_page("contracts/funding_form.html", form, title=title, contract=contract, line=line)


@blueprint.route("/contracts/<int:contract_id>/funding/<int:line_id>/delete", methods=["POST"])
@login_required
def delete_funding_line(contract_id: int, line_id: int) -> Any:
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    line = next((x for x in contract.funding_lines if x.id == line_id), None)
    if line is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with db.transaction() as session:
        services.delete_funding_line(session, user, contract, line)
    flash("Funding line removed", "success")
    return redirect(url_for("contracts.contract", contract_id=contract.id, _anchor="funding"))


@blueprint.route("/contracts/<int:contract_id>/milestones/new", methods=["GET", "POST"])
@login_required
def new_milestone(contract_id: int) -> Any:
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    form = MilestoneForm()
    if form.validate_on_submit():
        title, due = form.title.data or "", form.due_date.data
        if save(form, lambda session: services.add_milestone(session, user, contract, title, due)):
            flash("Milestone added", "success")
            return redirect(url_for("contracts.contract", contract_id=contract.id, _anchor="milestones"))
    return form_page("contracts/milestone_form.html", form, title="Add a milestone", contract=contract)
