"""Pages that change the register. Each parses its form, calls one service in
one transaction, and shows every message beside its field on failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

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
from monitor.contracts.models import ENDING_KINDS, Contract, FundingLine
from monitor.contracts.renewal import extend_end, options_lapsed
from monitor.db import db
from monitor.errors import ValidationFailed
from monitor.formatting import date_text, day_text, sentence_case
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


def _answers_pass(form: FlaskForm, check: Callable[[], dict[str, str]]) -> bool:
    """The checks `_submit` makes, without the write: for answers to be checked first."""
    shaped_ok = form.validate()
    shaped = {name for name, messages in form.errors.items() if messages}
    errors = {name: m for name, m in check().items() if name not in shaped}
    apply_service_errors(form, errors)
    return shaped_ok and not errors


# Answers waiting on a "Check your answers" page, kept in the session (signed) by
# action and contract until the final button writes them.
def _answers_key(action: str, contract: Contract) -> str:
    return f"answers:{action}:{contract.id}"


def _remember(action: str, contract: Contract) -> None:
    answers = request.form.to_dict(flat=False)
    answers.pop("csrf_token", None)
    session[_answers_key(action, contract)] = answers


def _recall(action: str, contract: Contract) -> MultiDict[str, str] | None:
    answers = session.get(_answers_key(action, contract))
    return MultiDict(answers) if isinstance(answers, dict) else None


def _forget(action: str, contract: Contract) -> None:
    session.pop(_answers_key(action, contract), None)


def _check_page(contract: Contract, **context: Any) -> Any:
    return render_template(
        "contracts/check_answers.html", contract=contract, confirm_form=ConfirmForm(), **context
    )


def _answer_rows(form: ExtensionForm | AmendmentForm, change_url: str) -> list[dict[str, Any]]:
    """The summary list: each answer with a Change link to its field."""
    rows = []
    for field in form:
        if field.type in ("CSRFTokenField", "SubmitField") or field.name == "option_id":
            continue
        if field.name == "new_value":
            continue  # only value changes have one, and they are not checked first
        if field.type == "BooleanField":
            value = "Yes" if field.data else "No"
        elif field.type == "RadioField":
            value = dict(field.choices).get(field.data, "Not given")
        elif field.type == "GovDateField":
            value = day_text(field.data) if field.data else "Not given"
        else:
            value = str(field.data or "") or "Not given"
        target = f"{field.id}-day" if field.type == "GovDateField" else field.id
        rows.append(
            {
                "key": {"text": field.label.text},
                "value": {"text": value},
                "actions": {
                    "items": [
                        {
                            "href": f"{change_url}#{target}",
                            "text": "Change",
                            "visuallyHiddenText": field.label.text.lower(),
                        }
                    ]
                },
            }
        )
    return rows


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


def _extension_form(
    contract: Contract, available: list[Any], answers: MultiDict[str, str] | None = None
) -> ExtensionForm:
    # Answers recalled for a Change link or the final write fill the form as if posted.
    form = ExtensionForm(formdata=answers, meta={"csrf": False}) if answers is not None else ExtensionForm()
    form.option_id.choices = [
        (str(o.id), f"{o.label}: ends {day_text(extend_end(contract.end_date, o.length_months))}")
        for o in available[:1]
    ]
    if available and not form.is_submitted() and answers is None:
        form.option_id.data = str(available[0].id)
    return form


def _extension_page(contract: Contract, form: ExtensionForm, available: list[Any]) -> Any:
    return form_page(
        "contracts/extension_form.html",
        form,
        title=f"Exercise an extension: {contract.reference}",
        contract=contract,
        available=available,
        lapsed=options_lapsed(terms_of(contract), today()),
    )


@blueprint.route("/contracts/<int:contract_id>/extend", methods=["GET", "POST"])
@login_required
def exercise_extension(contract_id: int) -> Any:
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    available = offered_options(contract, today())
    changing = request.method == "GET" and request.args.get("change") == "1"
    form = _extension_form(contract, available, _recall("extend", contract) if changing else None)
    if request.method == "POST":
        fields = _amendment_fields(form, "extension")
        option_id = _int_or_none(form.option_id.data)
        if _answers_pass(form, lambda: services.check_extension(contract, option_id, fields, today())):
            _remember("extend", contract)
            return redirect(url_for("contracts.check_extension", contract_id=contract.id))
    return _extension_page(contract, form, available)


@blueprint.route("/contracts/<int:contract_id>/extend/check", methods=["GET", "POST"])
@login_required
def check_extension(contract_id: int) -> Any:
    """Check your answers, then exercise the extension: the write is on this page's button."""
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    answers = _recall("extend", contract)
    if answers is None:
        return redirect(url_for("contracts.exercise_extension", contract_id=contract.id))
    available = offered_options(contract, today())
    form = _extension_form(contract, available, answers)
    form.validate()
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        fields = _amendment_fields(form, "extension")
        option_id = _int_or_none(form.option_id.data)
        amendment = _submit(
            form,
            lambda: services.check_extension(contract, option_id, fields, today()),
            lambda session: services.exercise_extension(session, user, contract, option_id, fields),
        )
        if amendment is None:
            # Something changed since the answers were checked: show them again, with why.
            return _extension_page(contract, form, available)
        _forget("extend", contract)
        flash(f"Extension exercised: the contract now ends on {date_text(amendment.new_end_date)}", "success")
        return redirect(url_for("contracts.contract", contract_id=contract.id))
    change_url = url_for("contracts.exercise_extension", contract_id=contract.id, change=1)
    option = next((o for o in available if str(o.id) == form.option_id.data), None)
    option_row = {
        "key": {"text": "Option to exercise"},
        "value": {
            "text": f"{option.label}: the contract would end on "
            f"{day_text(extend_end(contract.end_date, option.length_months))}"
            if option is not None
            else "No option is open"
        },
        "actions": {
            "items": [{"href": f"{change_url}#option_id", "text": "Change", "visuallyHiddenText": "option"}]
        },
    }
    return _check_page(
        contract,
        title=f"Check your answers: exercise an extension, {contract.reference}",
        heading="Check your answers before exercising the extension",
        rows=[option_row, *_answer_rows(form, change_url)],
        warning="Once exercised, an extension option cannot be taken back. A mistake in the record can be corrected later.",
        button="Exercise extension",
    )


def _amendment_form(answers: MultiDict[str, str] | None = None) -> AmendmentForm:
    return AmendmentForm(formdata=answers, meta={"csrf": False}) if answers is not None else AmendmentForm()


def _amendment_page(contract: Contract, form: AmendmentForm) -> Any:
    return form_page(
        "contracts/amendment_form.html",
        form,
        title=f"Record an amendment: {contract.reference}",
        contract=contract,
    )


@blueprint.route("/contracts/<int:contract_id>/amendments/new", methods=["GET", "POST"])
@login_required
def record_amendment(contract_id: int) -> Any:
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    changing = request.method == "GET" and request.args.get("change") == "1"
    form = _amendment_form(_recall("end", contract) if changing else None)
    if request.method == "POST":
        fields = _amendment_fields(form, form.kind.data or "")
        check = lambda: services.check_amendment(contract, fields, today())  # noqa: E731
        if fields.kind in ENDING_KINDS:
            # Ending a contract cannot be undone: the answers are checked first.
            if _answers_pass(form, check):
                _remember("end", contract)
                return redirect(url_for("contracts.check_ending", contract_id=contract.id))
        elif _submit(form, check, lambda session: services.record_amendment(session, user, contract, fields)):
            flash("Amendment recorded", "success")
            return redirect(url_for("contracts.contract", contract_id=contract.id))
    return _amendment_page(contract, form)


@blueprint.route("/contracts/<int:contract_id>/amendments/check", methods=["GET", "POST"])
@login_required
def check_ending(contract_id: int) -> Any:
    """Check your answers, then record the termination or decommissioning."""
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    answers = _recall("end", contract)
    if answers is None:
        return redirect(url_for("contracts.record_amendment", contract_id=contract.id))
    form = _amendment_form(answers)
    form.validate()
    fields = _amendment_fields(form, form.kind.data or "")
    if fields.kind not in ENDING_KINDS:
        _forget("end", contract)
        return redirect(url_for("contracts.record_amendment", contract_id=contract.id))
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        saved = _submit(
            form,
            lambda: services.check_amendment(contract, fields, today()),
            lambda session: services.record_amendment(session, user, contract, fields),
        )
        if saved is None:
            return _amendment_page(contract, form)
        _forget("end", contract)
        flash(f"{sentence_case(fields.kind)} recorded", "success")
        return redirect(url_for("contracts.contract", contract_id=contract.id))
    return _check_page(
        contract,
        title=f"Check your answers: {fields.kind}, {contract.reference}",
        heading=f"Check your answers before recording the {fields.kind}",
        rows=_answer_rows(form, url_for("contracts.record_amendment", contract_id=contract.id, change=1)),
        warning=f"Once recorded, the {fields.kind} ends the contract and its extension options lapse.",
        button=f"Record {fields.kind}",
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


@blueprint.route("/contracts/<int:contract_id>/options/<int:option_id>/decline", methods=["GET", "POST"])
@login_required
def decline_option(contract_id: int, option_id: int) -> Any:
    """GET checks the answer (which options go); the button POSTs the decision."""
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id, change=True)
    if request.method == "GET":
        offered = offered_options(contract, today())
        option = next((o for o in offered if o.id == option_id), None)
        if option is None:
            flash("That extension option can no longer be declined", "info")
            return redirect(url_for("contracts.contract", contract_id=contract.id, _anchor="options"))
        going = [o for o in offered if o.sequence >= option.sequence]
        back = url_for("contracts.contract", contract_id=contract.id, _anchor="options")
        return _check_page(
            contract,
            title=f"Check your answer: decline option {option.sequence}, {contract.reference}",
            heading="Check your answer before declining",
            rows=[
                {
                    "key": {"text": "Options to decline"},
                    "value": {"text": ", ".join(o.label for o in going)},
                    "actions": {
                        "items": [
                            {"href": back, "text": "Change", "visuallyHiddenText": "options to decline"}
                        ]
                    },
                }
            ],
            warning="A declined option cannot be exercised later. Options are taken in order, so the ones after it go too.",
            button=f"Decline option {option.sequence}",
        )
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with db.transaction() as dbs:
            option = services.decline_option(dbs, user, contract, option_id)
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
