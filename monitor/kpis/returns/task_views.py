"""The provider's task list: what they owe first, then when the next return is
due, then what they have already sent. Every return is in exactly one group,
so each is counted once: a late return is late, not also "not yet submitted"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import redirect, render_template, url_for
from flask_login import login_required

from monitor.access.roles import Role
from monitor.access.signed_in import signed_in_user
from monitor.clock import today
from monitor.contracts.access import visible_contracts
from monitor.db import db
from monitor.formatting import day_text
from monitor.kpis.blueprint import blueprint
from monitor.kpis.returns.calendar import ExpectedReturn, expected_returns
from monitor.kpis.returns.views import rules
from monitor.kpis.vocabulary import ReturnState

# How many sent returns the task list shows before linking to the Returns page.
SENT_SHOWN = 5


@dataclass(frozen=True)
class Tasks:
    """A provider's returns, each in one group."""

    to_do: list[ExpectedReturn]  # late, queried, needing resubmission or due: oldest due first
    upcoming: list[ExpectedReturn]  # quarters still running, not yet submitted
    awaiting_review: list[ExpectedReturn]  # sent, with the commissioner: newest first
    accepted: list[ExpectedReturn]  # newest first

    @property
    def next_due(self) -> date | None:
        return min((e.due_date for e in self.upcoming), default=None)

    @property
    def next_returns(self) -> list[ExpectedReturn]:
        return [e for e in self.upcoming if e.due_date == self.next_due]


def needs_action(expected: ExpectedReturn) -> bool:
    """The provider has something to do: the quarter has ended and the return
    was not handed in, or the commissioner queried it, or a framework change
    means it must be submitted again."""
    return (
        (expected.quarter_ended and not expected.submitted)
        or expected.state == ReturnState.QUERIED
        or (expected.needs_resubmission and expected.state != ReturnState.ACCEPTED)
    )


def _urgency(expected: ExpectedReturn) -> int:
    if expected.late:
        return 0
    if expected.submitted:  # queried or needing resubmission
        return 1
    return 2


def group(expected: Iterable[ExpectedReturn]) -> Tasks:
    to_do: list[ExpectedReturn] = []
    upcoming: list[ExpectedReturn] = []
    awaiting: list[ExpectedReturn] = []
    accepted: list[ExpectedReturn] = []
    for item in expected:
        if needs_action(item):
            to_do.append(item)
        elif not item.submitted:
            upcoming.append(item)
        elif item.state == ReturnState.ACCEPTED:
            accepted.append(item)
        else:
            awaiting.append(item)
    to_do.sort(key=lambda e: (_urgency(e), e.due_date, e.contract.reference))
    upcoming.sort(key=lambda e: (e.due_date, e.contract.reference))
    return Tasks(to_do, upcoming, awaiting, accepted)


def status_tag(expected: ExpectedReturn) -> dict[str, str]:
    """The task list's status tag: Late, Queried, Needs resubmission or 'Due 19 July 2013'."""
    if expected.late:
        return {"text": "Late", "classes": "govuk-tag--red"}
    if expected.state == ReturnState.QUERIED:
        return {"text": "Queried", "classes": "govuk-tag--orange"}
    if expected.needs_resubmission:
        return {"text": "Needs resubmission", "classes": "govuk-tag--red"}
    return {"text": f"Due {day_text(expected.due_date)}", "classes": "govuk-tag--blue"}


@blueprint.route("/tasks")
@login_required
def provider_tasks() -> Any:
    user = signed_in_user()
    if user.role != Role.PROVIDER:
        # A home page for providers: everyone else starts from their own.
        return redirect(url_for("contracts.home"))
    everything = expected_returns(
        db.session(), visible_contracts(user), today(), rules(), include_current=True
    )
    tasks = group(everything)
    return render_template(
        "kpis/tasks.html",
        title="Your returns",
        tasks=tasks,
        status_tag=status_tag,
        sent_shown=SENT_SHOWN,
    )
