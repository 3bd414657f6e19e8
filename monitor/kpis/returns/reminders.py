"""Reminders about returns not yet submitted, before and after the due date.

Stages: five working days before the due date, on it, and five and ten
working days after. From five working days after, the lead commissioner's
users are told too, with the contract manager named. Each run sends only the
latest stage reached, once per recipient: a run missed on the day a stage
fell sends that stage late, never a backlog of every stage at once, and a
second run the same day sends nothing twice. A return already submitted gets
no reminders at all.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from flask import render_template
from sqlalchemy import select, true
from sqlalchemy.exc import IntegrityError

from monitor.auth.models import Role, User
from monitor.db import Database
from monitor.formatting import count_text, day_text
from monitor.kpis.models import ReminderSent
from monitor.kpis.periods import add_working_days
from monitor.kpis.returns.calendar import CalendarRules, ExpectedReturn, expected_returns
from monitor.kpis.returns.mail import Mailer, build_message

log = logging.getLogger(__name__)


class Stage(StrEnum):
    BEFORE_DUE = "before due"
    DUE = "due today"
    OVERDUE = "overdue"
    MISSING = "missing"


@dataclass(frozen=True)
class StageRule:
    stage: Stage
    working_days_after_due: int  # negative: before the due date
    escalate: bool


STAGES: tuple[StageRule, ...] = (
    StageRule(Stage.BEFORE_DUE, -5, escalate=False),
    StageRule(Stage.DUE, 0, escalate=False),
    StageRule(Stage.OVERDUE, 5, escalate=True),
    StageRule(Stage.MISSING, 10, escalate=True),
)


def stage_dates(due: date) -> list[tuple[StageRule, date]]:
    return [(rule, add_working_days(due, rule.working_days_after_due)) for rule in STAGES]


def latest_stage(due: date, today: date) -> StageRule | None:
    """The latest stage whose date has been reached, if any."""
    reached = [rule for rule, on in stage_dates(due) if on <= today]
    return reached[-1] if reached else None


def return_path(contract_id: int, period: str) -> str:
    """Where the return's page is (the same address as kpis.return_page)."""
    return f"/contracts/{contract_id}/returns/{period}"


@dataclass(frozen=True)
class Reminder:
    expected: ExpectedReturn
    rule: StageRule
    recipient: User
    escalation: bool


@dataclass
class ReminderReport:
    to_providers: int = 0
    escalations: int = 0
    already_sent: int = 0
    failed: int = 0
    without_recipients: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return self.to_providers + self.escalations

    def summary(self) -> str:
        escalations = count_text(self.escalations, "escalation")
        providers = count_text(self.to_providers, "provider")
        line = f"reminders: {self.sent} sent ({providers}, {escalations}), {self.already_sent} already sent"
        if self.failed:
            line += f", {self.failed} failed (they will be tried again on the next run)"
        if self.without_recipients:
            line += f"; no one to remind for {', '.join(self.without_recipients)}"
        return line


def users_of(session: Any, role: Role, organisation_id: int) -> list[User]:
    """The active users of an organisation in a role: whom to tell about its returns."""
    query = (
        select(User)
        .where(User.role == role.value, User.organisation_id == organisation_id, User.active.is_(True))
        .order_by(User.email)
    )
    return list(session.scalars(query))


def outstanding(session: Any, today: date, rules: CalendarRules) -> list[tuple[ExpectedReturn, StageRule]]:
    """Returns not submitted whose first reminder date has come, with the latest stage reached."""
    result = []
    for expected in expected_returns(session, true(), today, rules):
        rule = latest_stage(expected.due_date, today)
        if rule is not None and not expected.submitted and expected.quarter_ended:
            result.append((expected, rule))
    return result


def plan(session: Any, due: Sequence[tuple[ExpectedReturn, StageRule]]) -> list[Reminder]:
    """Every reminder the latest-stage rule calls for, sent before or not."""
    reminders: list[Reminder] = []
    for expected, rule in due:
        contract = expected.contract
        for user in users_of(session, Role.PROVIDER, contract.provider_id):
            reminders.append(Reminder(expected, rule, user, escalation=False))
        if rule.escalate:
            for user in users_of(session, Role.COMMISSIONER, contract.lead_commissioner_id):
                reminders.append(Reminder(expected, rule, user, escalation=True))
    return reminders


def _already_sent(session: Any, reminders: Sequence[Reminder]) -> set[tuple[int, str, str, str]]:
    contract_ids = {r.expected.contract.id for r in reminders}
    if not contract_ids:
        return set()
    rows = session.execute(
        select(
            ReminderSent.contract_id, ReminderSent.period, ReminderSent.stage, ReminderSent.recipient
        ).where(ReminderSent.contract_id.in_(contract_ids))
    )
    return {tuple(row) for row in rows}


def compose(reminder: Reminder, settings: Mapping[str, Any], today: date) -> tuple[str, str]:
    """Subject and plain-text body."""
    expected = reminder.expected
    contract = expected.contract
    label = f"{contract.reference} {expected.quarter.label}"
    days = expected.days_in_force
    if reminder.escalation:
        subject = f"Return overdue from {contract.provider.name}: {label}"
        template = "emails/return_escalation.txt"
    elif reminder.rule.stage == Stage.BEFORE_DUE:
        subject = f"Quarterly return due on {day_text(expected.due_date)}: {label}"
        template = "emails/return_reminder.txt"
    elif reminder.rule.stage == Stage.DUE:
        when = "today" if expected.due_date == today else f"on {day_text(expected.due_date)}"
        subject = f"Quarterly return due {when}: {label}"
        template = "emails/return_reminder.txt"
    else:
        subject = f"Quarterly return overdue: {label}"
        template = "emails/return_reminder.txt"
    body = render_template(
        template,
        reminder=reminder,
        expected=expected,
        contract=contract,
        quarter=expected.quarter,
        stage=reminder.rule.stage.value,
        due=day_text(expected.due_date),
        # A part quarter's return covers only the contract's days in force.
        quarter_start=day_text(days.first if days is not None else expected.quarter.start),
        quarter_end=day_text(days.last if days is not None else expected.quarter.end),
        due_passed=today > expected.due_date,
        due_today=today == expected.due_date,
        short_quarter=expected.quarter.short_label,
        link=str(settings.get("SERVICE_URL") or "").rstrip("/") + return_path(contract.id, expected.period),
        recipient=reminder.recipient,
    )
    return subject, wrap(body)


def wrap(text: str, width: int = 72) -> str:
    """Plain text wrapped the way mail programs expect, keeping numbered steps apart."""
    lines: list[str] = []
    for line in text.strip().splitlines():
        if not line.strip() and lines and not lines[-1]:
            continue  # one blank line between paragraphs is enough
        indent = "   " if line[:2].rstrip(".").isdigit() else ""
        lines.append(
            textwrap.fill(line, width, subsequent_indent=indent, break_on_hyphens=False) if line else ""
        )
    return "\n".join(lines) + "\n"


def send_reminders(
    database: Database, today: date, settings: Mapping[str, Any], mailer: Mailer
) -> ReminderReport:
    """Send what is due today. Each message is recorded in the same transaction
    as it is sent, so a crash or a failed send never leaves one marked sent
    that was not, and two runs at once cannot both send it."""
    report = ReminderReport()
    rules = CalendarRules.from_config(settings)
    session = database.session()
    due = outstanding(session, today, rules)
    reminders = plan(session, due)
    sent_before = _already_sent(session, reminders)
    covered = {(r.expected.contract.id, r.expected.period) for r in reminders}
    report.without_recipients = [
        f"{e.contract.reference} {e.period}" for e, _ in due if (e.contract.id, e.period) not in covered
    ]
    messages = []
    for reminder in reminders:
        expected = reminder.expected
        key = (expected.contract.id, expected.period, reminder.rule.stage.value, reminder.recipient.email)
        if key in sent_before:
            report.already_sent += 1
            continue
        subject, body = compose(reminder, settings, today)
        messages.append((reminder, key, build_message(settings, reminder.recipient.email, subject, body)))
    for reminder, key, message in messages:
        contract_id, period, stage, recipient = key
        try:
            with database.transaction() as session:
                session.add(
                    ReminderSent(contract_id=contract_id, period=period, stage=stage, recipient=recipient)
                )
                session.flush()  # claims the reminder: a second run at once fails here
                mailer.send(message)
        except IntegrityError:
            report.already_sent += 1
            continue
        except Exception:
            log.exception("reminder not sent", extra={"contract_id": contract_id, "period": period})
            report.failed += 1
            continue
        if reminder.escalation:
            report.escalations += 1
        else:
            report.to_providers += 1
    return report
