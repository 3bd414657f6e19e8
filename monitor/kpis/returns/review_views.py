"""The commissioner's side of a return: the review page (the figures first,
then one decision), the page to check a decision before it is sent, and the
query, accept and reopen actions.

A query goes straight through once its comment is given: the provider
answers it, so nothing is lost. Accepting locks the return and reopening
sends an accepted one back, so both stop at a "Check your answers" page
whose one button posts to the accept or reopen action. Those actions (the
same endpoints as before, which other channels and tests post to directly)
call `ReviewReturn`, which checks the state and the revision the reviewer
saw, so a stale or repeated submission cannot accept twice.

The upload pages (`views`) render this page for anyone who may review;
this module needs nothing from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from monitor.access.rules import can_review
from monitor.access.signed_in import signed_in_user
from monitor.auth.models import User
from monitor.clock import today
from monitor.contracts.access import contract_for
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.formatting import count_text, london_time
from monitor.forms import error_list
from monitor.kpis.blueprint import blueprint
from monitor.kpis.models import Return, ReturnVersion
from monitor.kpis.performance.figures import Figure, QuarterFigures, reported_figures
from monitor.kpis.performance.outcomes import OutcomeSettings, summarise_outcomes
from monitor.kpis.performance.rag import Rag
from monitor.kpis.periods import Quarter, working_days_between
from monitor.kpis.returns.calendar import CalendarRules, ExpectedReturn, expected_return
from monitor.kpis.returns.commands import Refused, ReviewReturn
from monitor.kpis.returns.forms import (
    ACCEPT,
    QUERY,
    REOPEN,
    AcceptForm,
    DecisionForm,
    QueryForm,
    ReopenForm,
)
from monitor.kpis.returns.services import CONFLICT_MESSAGE, REVIEWABLE, FigureRow, version_figures
from monitor.kpis.vocabulary import ReturnState

DONE = {
    QUERY: "Return queried: the provider can see your comment",
    ACCEPT: "Return accepted",
    REOPEN: "Return reopened: it is back with the provider",
}


def _reviewed(contract_id: int, period: str) -> tuple[User, Contract, ExpectedReturn]:
    """The contract (404 unless readable), its expected return (404 unless it
    reports then), and the user, who must be allowed to review (403)."""
    user = signed_in_user()
    contract = contract_for(db.session(), user, contract_id)
    quarter = Quarter.parse(period)
    if quarter is None or str(quarter) != period:
        abort(404)
    rules = CalendarRules.from_config(current_app.config)
    expected = expected_return(db.session(), contract, quarter, today(), rules)
    if expected is None:
        abort(404)
    if not can_review(user, contract):
        abort(403)
    return user, contract, expected


# What the page shows ------------------------------------------------------------


def timeliness(due: date, received: date) -> str:
    """How a return's arrival stood against its due date, in working days:
    'on time', '2 working days before the due date', '1 working day after the due date'."""
    days = working_days_between(due, received)
    if received == due:
        return "on time"
    if received < due:
        return f"on time: {count_text(-days, 'working day')} before the due date" if days else "on time"
    if days == 0:
        return "after the due date, on a day that was not a working day"
    return f"{count_text(days, 'working day')} after the due date"


def overdue_text(due: date, day: date) -> str:
    """For a return not yet received: how far past its due date `day` is."""
    days = working_days_between(due, day)
    if day <= due or days == 0:
        return "not due yet" if day <= due else "the due date has passed"
    return f"{count_text(days, 'working day')} after the due date"


def first_submitted(versions: list[ReturnVersion]) -> ReturnVersion | None:
    """The version by which the return was received: the first one submitted."""
    return next((v for v in versions if v.submitted), None)


@dataclass(frozen=True)
class ReviewRow:
    """One KPI of the version under review, beside last quarter's reported figure."""

    figure: FigureRow
    previous: Figure | None
    previous_provisional: bool

    @property
    def value(self) -> Any:
        return self.figure.value.value if self.figure.value is not None else None


def review_rows(rows: list[FigureRow], previous: QuarterFigures | None) -> list[ReviewRow]:
    return [
        ReviewRow(
            row,
            previous.values.get(row.kpi.id) if previous is not None else None,
            previous is not None and previous.provisional,
        )
        for row in rows
    ]


def _under_review(versions: list[ReturnVersion]) -> ReturnVersion | None:
    """The version a decision is about: the latest submitted (a draft saved
    since does not replace it), else the latest draft."""
    submitted = [v for v in versions if v.submitted]
    return submitted[-1] if submitted else (versions[-1] if versions else None)


def _allowed(expected: ExpectedReturn) -> tuple[str, ...]:
    if expected.record is None:
        return ()
    if expected.state in REVIEWABLE:
        return (ACCEPT, QUERY)
    if expected.state == ReturnState.ACCEPTED:
        return (REOPEN,)
    return ()


def review_page(
    user: User,
    contract: Contract,
    expected: ExpectedReturn,
    *,
    status: int = 200,
    form: DecisionForm | None = None,
    page_errors: list[dict[str, str]] | None = None,
) -> Any:
    """The page a reviewer sees for one return: summary, figures, versions,
    the query thread and one decision. Never the provider's upload form."""
    session = db.session()
    record: Return | None = expected.record
    versions: list[ReturnVersion] = list(record.versions) if record is not None else []
    shown = _under_review(versions)
    rows: list[ReviewRow] = []
    summaries: list[Any] = []
    if shown is not None:
        previous = reported_figures(session, [contract.id]).get(
            (contract.id, str(expected.quarter.previous()))
        )
        rows = review_rows(version_figures(session, contract, expected.quarter, shown), previous)
        if shown.outcome_scores:
            settings = OutcomeSettings.from_config(current_app.config)
            summaries = list(summarise_outcomes(shown.outcome_scores, settings))
    received = first_submitted(versions)
    received_day = london_time(received.uploaded_at).date() if received is not None else None
    allowed = _allowed(expected)
    if form is None:
        chosen = request.args.get("decision", "")
        form = DecisionForm(
            formdata=None,
            allowed=allowed,
            decision=chosen if chosen in allowed else None,
            revision=record.revision if record is not None else None,
        )
    errors = list(page_errors or [])
    errors += error_list(form)
    return render_template(
        "kpis/return_review.html",
        title=f"Review the {expected.quarter.short_label} return: {contract.reference}",
        contract=contract,
        expected=expected,
        record=record,
        versions=versions,
        shown=shown,
        rows=rows,
        outcome_summaries=summaries,
        received=received,
        received_day=received_day,
        timeliness=timeliness(expected.due_date, received_day) if received_day is not None else "",
        overdue=overdue_text(expected.due_date, expected.today) if received_day is None else "",
        allowed=allowed,
        form=form,
        error_form=None,  # the summary below lists the form's errors with the page's
        page_errors=errors,
    ), status


# The decision -------------------------------------------------------------------


@blueprint.route("/contracts/<int:contract_id>/returns/<period>/decision", methods=["POST"])
@login_required
def decide_return(contract_id: int, period: str) -> Any:
    """The review page's one form. A query is sent at once; accepting and
    reopening go to the page that checks the decision first."""
    user, contract, expected = _reviewed(contract_id, period)
    record = expected.record
    form = DecisionForm(allowed=_allowed(expected))
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:  # the page sat open past the token's life
            form.csrf_token.errors = []
            errors = [{"text": "The form had expired; try again", "href": "#decision"}]
            return review_page(user, contract, expected, status=400, form=form, page_errors=errors)
        return review_page(user, contract, expected, status=400, form=form)
    assert record is not None  # for mypy: nothing is allowed without a record
    if form.revision.data is not None and form.revision.data != record.revision:
        errors = [{"text": CONFLICT_MESSAGE, "href": "#decision"}]
        return review_page(user, contract, expected, status=409, form=form, page_errors=errors)
    decision = str(form.decision.data)
    if decision == QUERY:
        return _act(user, contract, expected, QUERY, form.comment.data or "", form.revision.data, form)
    shown = _under_review(list(record.versions))
    rows = version_figures(db.session(), contract, expected.quarter, shown) if shown is not None else []
    rated = [row.rag for row in rows if row.item is not None and row.rag is not None]
    # Worst first, so what needs a second look leads.
    ratings = {
        rag.text: rated.count(rag) for rag in (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.NONE) if rag in rated
    }
    confirm: AcceptForm | ReopenForm = (
        AcceptForm(formdata=None, prefix="accept", revision=record.revision, comment=form.comment.data)
        if decision == ACCEPT
        else ReopenForm(formdata=None, prefix="reopen", revision=record.revision, reason=form.comment.data)
    )
    return render_template(
        "kpis/review_check.html",
        title=f"Check your decision: {contract.reference} {expected.quarter.short_label}",
        contract=contract,
        expected=expected,
        decision=decision,
        reason=form.comment.data or "",
        shown=shown,
        ratings=ratings,
        confirm_form=confirm,
    )


def _act(
    user: User,
    contract: Contract,
    expected: ExpectedReturn,
    action: str,
    text: str,
    revision: int | None,
    form: DecisionForm | None = None,
) -> Any:
    """Run the review command; the page again with its reasons if it refuses."""
    outcome = ReviewReturn(user, expected.record, action, text, revision).run()
    if isinstance(outcome, Refused):
        _, contract, expected = _reviewed(contract.id, expected.period)
        target = "#comment" if action in (QUERY, REOPEN) else "#decision"
        errors = [{"text": m.message, "href": target} for m in outcome.messages]
        if form is not None:
            form.allowed = _allowed(expected)
        return review_page(
            user, contract, expected, status=409 if outcome.conflict else 400, form=form, page_errors=errors
        )
    flash(DONE[action], "success")
    return redirect(url_for("kpis.return_page", contract_id=contract.id, period=expected.period))


def _review(contract_id: int, period: str, action: str) -> Any:
    """The actions themselves: what the check page's button posts, and what
    other channels post directly."""
    user, contract, expected = _reviewed(contract_id, period)
    if expected.record is None:
        errors = [
            {
                "text": "Nothing has been uploaded for this quarter yet, so there is nothing to review",
                "href": "#versions",
            }
        ]
        return review_page(user, contract, expected, status=400, page_errors=errors)
    form: QueryForm | AcceptForm | ReopenForm = {
        QUERY: QueryForm(prefix="query"),
        ACCEPT: AcceptForm(prefix="accept"),
        REOPEN: ReopenForm(prefix="reopen"),
    }[action]
    if not form.validate_on_submit():
        problems = [
            {
                "text": str(field.errors[0]),
                "href": "#decision" if field.name.endswith("csrf_token") else "#comment",
            }
            for field in form
            if field.errors
        ]
        if any(field.name.endswith("csrf_token") and field.errors for field in form):
            problems = [{"text": "The form had expired; try again", "href": "#decision"}]
        return review_page(user, contract, expected, status=400, page_errors=problems)
    said = (form.reason.data if isinstance(form, ReopenForm) else form.comment.data) or ""
    return _act(user, contract, expected, action, said, form.revision.data)


@blueprint.route("/contracts/<int:contract_id>/returns/<period>/query", methods=["POST"])
@login_required
def query_return_page(contract_id: int, period: str) -> Any:
    return _review(contract_id, period, QUERY)


@blueprint.route("/contracts/<int:contract_id>/returns/<period>/accept", methods=["POST"])
@login_required
def accept_return_page(contract_id: int, period: str) -> Any:
    return _review(contract_id, period, ACCEPT)


@blueprint.route("/contracts/<int:contract_id>/returns/<period>/reopen", methods=["POST"])
@login_required
def reopen_return_page(contract_id: int, period: str) -> Any:
    return _review(contract_id, period, REOPEN)
