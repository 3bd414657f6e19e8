"""Pages for one contract's returns: the list of quarters, one return (download,
upload, check, versions, figures, review) and a comparison of two versions.

Checking a workbook stores nothing if it has errors. The provider's workbook
annotated with the problems, and an upload waiting for its warnings to be
acknowledged, are kept for an hour as files under the instance folder, named
by a random token and bound to the user who uploaded them (see `_Held`)."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from werkzeug.datastructures import FileStorage

from monitor.access.rules import can_review, can_see_return_figures, can_upload
from monitor.access.signed_in import signed_in_user
from monitor.auth.models import User
from monitor.clock import today
from monitor.contracts.access import contract_for
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.forms import error_list
from monitor.kpis.blueprint import blueprint
from monitor.kpis.models import Return, ReturnVersion
from monitor.kpis.performance.outcomes import OutcomeSettings, summarise_outcomes
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.calendar import CalendarRules, ExpectedReturn, expected_return, expected_returns
from monitor.kpis.returns.commands import (
    NeedsAcknowledgement,
    Refused,
    Stored,
    SubmitOutcome,
    SubmitReturn,
    Upload,
)
from monitor.kpis.returns.forms import ConfirmWarningsForm, UploadForm
from monitor.kpis.returns.ingest.pipeline import annotate_workbook
from monitor.kpis.returns.ingest.result import CheckedReturn, Message
from monitor.kpis.returns.review_views import review_page
from monitor.kpis.returns.services import compare_versions, format_figure, version_figures
from monitor.kpis.vocabulary import EventKind, ReturnState
from monitor.model_helpers import utcnow

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUMMARY_LIMIT = 20
HOLD_SECONDS = 60 * 60
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def rules() -> CalendarRules:
    return CalendarRules.from_config(current_app.config)


def _return_for(contract_id: int, period: str) -> tuple[User, Contract, ExpectedReturn]:
    """The contract (404 unless readable) and its expected return (404 unless it reports then)."""
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id)
    quarter = Quarter.parse(period)
    if quarter is None or str(quarter) != period:
        abort(404)
    expected = expected_return(db.session(), contract, quarter, today(), rules())
    if expected is None:
        abort(404)
    return user, contract, expected


# Files kept for an hour ---------------------------------------------------------


@dataclass(frozen=True)
class _Held:
    token: str
    meta: dict[str, Any]
    content: bytes


def _hold_dir() -> Path:
    path = Path(current_app.instance_path) / "return-uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _paths(user_id: int, token: str) -> tuple[Path, Path]:
    base = _hold_dir() / f"u{user_id}-{token}"
    return base.with_suffix(".json"), base.with_suffix(".bin")


def _sweep() -> None:
    cutoff = time.time() - HOLD_SECONDS
    for path in _hold_dir().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another request swept it first
            continue


def _hold(user: User, expected: ExpectedReturn, kind: str, content: bytes, **meta: Any) -> str:
    _sweep()
    token = secrets.token_urlsafe(24)
    meta_path, data_path = _paths(user.id, token)
    data_path.write_bytes(content)
    record = {
        "kind": kind,
        "user_id": user.id,
        "contract_id": expected.contract.id,
        "period": expected.period,
        "created": time.time(),
        **meta,
    }
    meta_path.write_text(json.dumps(record), encoding="utf-8")
    return token


def _held(user: User, expected: ExpectedReturn, kind: str, token: str) -> _Held | None:
    if not _TOKEN.match(token or ""):
        return None
    meta_path, data_path = _paths(user.id, token)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        content = data_path.read_bytes()
    except (FileNotFoundError, ValueError):
        return None
    if time.time() - float(meta.get("created", 0)) > HOLD_SECONDS:
        _release(user, token)
        return None
    if (meta.get("kind"), meta.get("user_id"), meta.get("contract_id"), meta.get("period")) != (
        kind,
        user.id,
        expected.contract.id,
        expected.period,
    ):
        return None
    return _Held(token, meta, content)


def _release(user: User, token: str) -> None:
    for path in _paths(user.id, token):
        path.unlink(missing_ok=True)


def _annotated(content: bytes, messages: list[Message]) -> bytes | None:
    result: bytes | None = annotate_workbook(content, messages)
    return result


def problem_summary(messages: list[Message]) -> list[dict[str, str]]:
    """Error summary entries: one per message up to the limit, then a count."""
    items = [
        {"text": _describe(m), "href": f"#problem-{number}"}
        for number, m in enumerate(messages[:SUMMARY_LIMIT], start=1)
    ]
    more = len(messages) - SUMMARY_LIMIT
    if more > 0:
        items.append(
            {"text": f"and {more} more: see the table of problems below", "href": "#workbook-problems"}
        )
    return items


def _describe(message: Message) -> str:
    where = " ".join(part for part in (message.sheet, message.cell) if part)
    return f"{where}: {message.message}" if where else message.message


# Pages ------------------------------------------------------------------------


@blueprint.route("/contracts/<int:contract_id>/returns")
@login_required
def contract_returns(contract_id: int) -> Any:
    user = signed_in_user()
    session = db.session()
    contract = contract_for(session, user, contract_id)
    expected = expected_returns(session, Contract.id == contract.id, today(), rules(), include_current=True)
    return render_template(
        "kpis/return_list.html",
        title=f"Returns: {contract.reference}",
        contract=contract,
        returns=expected,
    )


def _page(
    user: User,
    contract: Contract,
    expected: ExpectedReturn,
    *,
    status: int = 200,
    upload_form: UploadForm | None = None,
    checked: CheckedReturn | None = None,
    annotated_token: str | None = None,
    confirm_form: ConfirmWarningsForm | None = None,
    page_errors: list[dict[str, str]] | None = None,
) -> Any:
    if can_review(user, contract):
        # Reviewers get their own page: the figures first and one decision, never the upload form.
        shown = list(page_errors or []) + (problem_summary(checked.errors) if checked is not None else [])
        return review_page(user, contract, expected, status=status, page_errors=shown)
    session = db.session()
    record: Return | None = expected.record
    versions: list[ReturnVersion] = list(record.versions) if record is not None else []
    latest = versions[-1] if versions else None
    see_figures = can_see_return_figures(user, contract)
    figures = (
        version_figures(session, contract, expected.quarter, latest)
        if latest is not None and see_figures
        else []
    )
    summaries = _outcome_summaries(latest) if latest is not None and see_figures else []
    errors = list(page_errors or [])
    if upload_form is not None and upload_form.errors:
        errors = (
            [{"text": str(upload_form.file.errors[0]), "href": "#file"}, *errors]
            if upload_form.file.errors
            else errors
        )
    if checked is not None and checked.errors:
        errors += problem_summary(checked.errors)
    if confirm_form is not None:
        errors += error_list(confirm_form)
    return render_template(
        "kpis/return.html",
        title=f"{expected.quarter.label} return: {contract.reference}",
        error_form=None,
        contract=contract,
        expected=expected,
        record=record,
        versions=versions,
        latest=latest,
        figures=figures,
        outcome_summaries=summaries,
        see_figures=see_figures,
        see_comments=see_figures,
        may_upload=can_upload(user, contract) and expected.state != ReturnState.ACCEPTED,
        may_submit=expected.quarter_ended,
        # A query is answered in words (kpis.reply_to_query); a new version only if figures change.
        may_reply=can_upload(user, contract) and expected.state == ReturnState.QUERIED,
        upload_form=upload_form or UploadForm(),
        checked=checked,
        annotated_token=annotated_token,
        confirm_form=confirm_form,
        page_errors=errors,
        last_query=_last_comment(record),
        fmt=format_figure,
    ), status


def _outcome_summaries(version: ReturnVersion) -> list[Any]:
    if not version.outcome_scores:
        return []
    return list(summarise_outcomes(version.outcome_scores, OutcomeSettings.from_config(current_app.config)))


def _last_comment(record: Return | None) -> Any:
    if record is None or record.state != ReturnState.QUERIED:
        return None
    asked = [e for e in record.events if e.kind in (EventKind.QUERIED, EventKind.REOPENED)]
    return asked[-1] if asked else None


@blueprint.route("/contracts/<int:contract_id>/returns/<period>")
@login_required
def return_page(contract_id: int, period: str) -> Any:
    user, contract, expected = _return_for(contract_id, period)
    return _page(user, contract, expected)


@blueprint.route("/contracts/<int:contract_id>/returns/<period>/template.xlsx")
@login_required
def return_template(contract_id: int, period: str) -> Any:
    from monitor.kpis.returns.template import TemplateError, build_template

    user, contract, expected = _return_for(contract_id, period)
    try:
        content = build_template(db.session(), contract, expected.quarter, generated_at=utcnow())
    except TemplateError as problem:
        return _page(
            user, contract, expected, status=400, page_errors=[{"text": str(problem), "href": "#upload"}]
        )
    return send_file(
        BytesIO(content),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"{contract.reference}-{expected.period}-return.xlsx",
    )


@blueprint.route("/contracts/<int:contract_id>/returns/<period>/upload", methods=["POST"])
@login_required
def upload_return(contract_id: int, period: str) -> Any:
    user, contract, expected = _return_for(contract_id, period)
    if not can_upload(user, contract):
        abort(403)
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(user, contract, expected, status=400, upload_form=form)
    submit = bool(form.submit_return.data)
    storage: FileStorage = form.file.data
    # A file over the limit is refused by the command, in its words, like any other broken file.
    upload = Upload.receive(storage.filename or "return.xlsx", storage.stream)
    outcome = SubmitReturn(user, contract, expected.quarter, upload, submit, False).run()
    return _answer(user, contract, expected, upload, outcome, submit=submit, form=form)


def _answer(
    user: User,
    contract: Contract,
    expected: ExpectedReturn,
    upload: Upload,
    outcome: SubmitOutcome,
    *,
    submit: bool,
    form: UploadForm | None = None,
) -> Any:
    """The page for what the command answered."""
    if isinstance(outcome, Stored):
        if outcome.submitted:
            # The provider's return page confirms it in a panel; a commissioner
            # uploading on their behalf lands on the review page instead.
            if can_review(user, contract):
                flash(f"Return submitted: version {outcome.number} of {expected.quarter.label}", "success")
        else:
            flash(f"Draft saved as version {outcome.number}. It has not been submitted yet", "success")
        return redirect(url_for("kpis.return_page", contract_id=contract.id, period=expected.period))
    db.session.expire_all()
    _, contract, expected = _return_for(contract.id, expected.period)
    if isinstance(outcome, NeedsAcknowledgement):
        token = _hold(
            user,
            expected,
            "pending",
            upload.content,
            filename=upload.filename,
            submit=submit,
            warnings=[m.message for m in outcome.warnings],
        )
        confirm = ConfirmWarningsForm(formdata=None, token=token)
        return _page(
            user,
            contract,
            expected,
            upload_form=UploadForm(formdata=None),
            checked=outcome.checked,
            confirm_form=confirm,
        )
    checked = outcome.checked
    marked: str | None = None
    if checked is not None and checked.errors:
        annotated = _annotated(upload.content, checked.messages)
        marked = (
            _hold(user, expected, "annotated", annotated, filename=upload.filename) if annotated else None
        )
    in_workbook = set(checked.errors) if checked is not None else set()
    others = [{"text": m.message, "href": "#file"} for m in outcome.messages if m not in in_workbook]
    return _page(
        user,
        contract,
        expected,
        status=409 if outcome.conflict else 400,
        upload_form=form,
        checked=checked if in_workbook else None,
        annotated_token=marked,
        page_errors=others,
    )


@blueprint.route("/contracts/<int:contract_id>/returns/<period>/confirm", methods=["POST"])
@login_required
def confirm_return_upload(contract_id: int, period: str) -> Any:
    user, contract, expected = _return_for(contract_id, period)
    if not can_upload(user, contract):
        abort(403)
    form = ConfirmWarningsForm()
    held = _held(user, expected, "pending", form.token.data or "")
    if held is None:
        errors = [
            {
                "text": "The upload waiting for confirmation has expired or was already saved; upload the workbook again",
                "href": "#file",
            }
        ]
        return _page(user, contract, expected, status=400, page_errors=errors)
    upload = Upload(str(held.meta.get("filename") or "return.xlsx"), held.content)
    submit = bool(held.meta.get("submit"))
    if not form.validate_on_submit():
        checked = SubmitReturn(user, contract, expected.quarter, upload, submit, False).validate()
        shown = checked.checked if isinstance(checked, (Refused, NeedsAcknowledgement)) else None
        return _page(user, contract, expected, status=400, checked=shown, confirm_form=form)
    # Only the warnings shown are acknowledged: anything new since (the framework
    # changed, say) is shown afresh.
    acknowledged = [str(text) for text in held.meta.get("warnings") or []]
    outcome = SubmitReturn(user, contract, expected.quarter, upload, submit, acknowledged).run()
    if isinstance(outcome, NeedsAcknowledgement):
        _release(user, held.token)
        db.session.expire_all()
        _, contract, expected = _return_for(contract_id, period)
        return _page(user, contract, expected, status=400, checked=outcome.checked)
    response = _answer(user, contract, expected, upload, outcome, submit=submit)
    if isinstance(outcome, Stored):
        _release(user, held.token)
    return response


@blueprint.route("/contracts/<int:contract_id>/returns/<period>/annotated/<token>")
@login_required
def annotated_workbook(contract_id: int, period: str, token: str) -> Any:
    user, _contract, expected = _return_for(contract_id, period)
    held = _held(user, expected, "annotated", token)
    if held is None:
        abort(404)
    stem = str(held.meta.get("filename") or "return").rsplit(".", 1)[0]
    return send_file(
        BytesIO(held.content),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"{stem}-with-problems-marked.xlsx",
    )


def _version(expected: ExpectedReturn, number: int) -> ReturnVersion:
    record = expected.record
    found = next((v for v in record.versions if v.number == number), None) if record is not None else None
    if found is None:
        abort(404)
    return found


@blueprint.route("/contracts/<int:contract_id>/returns/<period>/versions/<int:number>/file")
@login_required
def return_version_file(contract_id: int, period: str, number: int) -> Any:
    user, contract, expected = _return_for(contract_id, period)
    if not can_see_return_figures(user, contract):
        abort(403)
    version = _version(expected, number)
    return send_file(
        BytesIO(version.content),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"{contract.reference}-{expected.period}-v{version.number}.xlsx",
    )


@blueprint.route("/contracts/<int:contract_id>/returns/<period>/compare")
@login_required
def compare_return_versions(contract_id: int, period: str) -> Any:
    user, contract, expected = _return_for(contract_id, period)
    if not can_see_return_figures(user, contract):
        abort(403)
    versions = list(expected.record.versions) if expected.record is not None else []
    numbers = [v.number for v in versions]
    error = ""
    a_text, b_text = request.args.get("a", ""), request.args.get("b", "")
    if not a_text and not b_text and len(numbers) >= 2:
        a_text, b_text = str(numbers[-2]), str(numbers[-1])
    chosen = []
    for text in (a_text, b_text):
        number = int(text) if text.isdigit() and len(text) < 9 else None
        chosen.append(number if number in numbers else None)
    if len(numbers) < 2:
        error = "There is only one version of this return, so there is nothing to compare yet"
    elif None in chosen:
        error = f"Choose two versions of this return to compare, from 1 to {numbers[-1]}"
    rows = []
    if not error:
        first, second = (_version(expected, n) for n in chosen if n is not None)
        rows = compare_versions(first, second)
    return render_template(
        "kpis/return_compare.html",
        title=f"Compare versions: {contract.reference} {expected.quarter.label}",
        contract=contract,
        expected=expected,
        versions=versions,
        chosen=chosen,
        rows=rows,
        error=error,
        fmt=format_figure,
    ), (400 if error and len(numbers) >= 2 else 200)
