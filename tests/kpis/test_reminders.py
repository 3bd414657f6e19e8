"""Reminders: the right stage on the right day, once per person, never after
submission, escalated to the lead commissioner once late."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from monitor.db import db
from monitor.kpis.models import ReminderSent
from monitor.kpis.returns.mail import Mailer
from monitor.kpis.returns.reminders import ReminderReport, Stage, latest_stage, return_path, send_reminders
from tests.conftest import DEMO_USERS
from tests.kpis.test_returns_builders import Q2, REFUGE, contract, upload

Q2_DUE = date(2013, 10, 21)


@pytest.fixture
def outbox(frameworks: Flask, tmp_path: Path) -> Path:
    frameworks.config["OUTBOX_DIR"] = str(tmp_path / "outbox")
    frameworks.config["SMTP_HOST"] = ""
    return tmp_path / "outbox"


# Every active provider user of Refuge hears, in email order: its provider and its organisation admin.
REFUGE_PEOPLE = sorted([DEMO_USERS["refuge"], DEMO_USERS["refuge_admin"]])


def run(on: date) -> ReminderReport:
    with Mailer(_config()) as mailer:
        return send_reminders(db, on, _config(), mailer)


def _config() -> Any:
    from flask import current_app

    return current_app.config


def messages(outbox: Path) -> list[Message]:
    return (
        [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]
        if outbox.exists()
        else []
    )


def text_of(message: Message) -> str:
    """The body with line wrapping undone."""
    return " ".join(message.get_payload(decode=True).decode().split())  # type: ignore[union-attr]


def sent(period: str = "2013-14-Q2") -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(ReminderSent.stage, ReminderSent.recipient)
        .where(ReminderSent.period == period)
        .order_by(ReminderSent.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("on", "stage"),
    [
        (date(2013, 10, 11), None),
        (date(2013, 10, 14), Stage.BEFORE_DUE),  # five working days before Monday 21 October
        (date(2013, 10, 18), Stage.BEFORE_DUE),
        (date(2013, 10, 21), Stage.DUE),
        (date(2013, 10, 25), Stage.DUE),
        (date(2013, 10, 28), Stage.OVERDUE),
        (date(2013, 11, 4), Stage.MISSING),
        (date(2014, 6, 1), Stage.MISSING),
    ],
)
def test_latest_stage_reached(on: date, stage: Stage | None) -> None:
    rule = latest_stage(Q2_DUE, on)
    assert (rule.stage if rule else None) == stage


def test_before_the_due_date_only_the_provider_hears(outbox: Path) -> None:
    report = run(date(2013, 10, 14))
    # Q1 is long overdue by then too; look at Q2.
    assert sent() == [("before due", person) for person in REFUGE_PEOPLE]
    q2 = [m for m in messages(outbox) if "Q2 2013/14" in m["Subject"]]
    assert sorted(m["To"] for m in q2) == REFUGE_PEOPLE
    assert {m["Subject"] for m in q2} == {
        "Quarterly return due on 21 October 2013: LBBD-DV-002 Q2 2013/14 (July to September 2013)"
    }
    body = text_of(q2[0])
    assert "due on 21 October 2013, in five working days" in body
    assert "1 July 2013 to 30 September 2013" in body
    assert return_path(contract(REFUGE).id, "2013-14-Q2") in body
    assert report.to_providers == 4  # Q1 (missing) and Q2, to each of Refuge's people


def test_running_twice_sends_nothing_twice(outbox: Path) -> None:
    first = run(date(2013, 12, 2))
    # Q1 and Q2 are both missing: Refuge's two people and LBBD's commissioner hear about each.
    assert (first.to_providers, first.escalations, first.already_sent) == (4, 2, 0)
    assert first.summary() == "reminders: 6 sent (4 providers, 2 escalations), 0 already sent"
    second = run(date(2013, 12, 2))
    assert (second.sent, second.already_sent) == (0, 6)
    assert len(messages(outbox)) == 6


def test_a_missed_stage_is_sent_once_late_not_every_stage(outbox: Path) -> None:
    run(date(2013, 10, 14))
    # The job did not run again until after the overdue stage: only that one goes.
    run(date(2013, 10, 29))
    assert [stage for stage, _ in sent()] == ["before due"] * 2 + ["overdue"] * 3
    assert {recipient for _, recipient in sent()} == {*REFUGE_PEOPLE, "commissioner@lbbd.demo.example"}


def test_escalation_names_the_contract_manager(outbox: Path) -> None:
    run(date(2013, 10, 28))
    escalations = [
        m for m in messages(outbox) if m["To"] == "commissioner@lbbd.demo.example" and "Q2" in m["Subject"]
    ]
    assert len(escalations) == 1
    assert escalations[0]["Subject"].startswith("Return overdue from Refuge: LBBD-DV-002 Q2 2013/14")
    body = text_of(escalations[0])
    assert (
        "The contract manager named on the register is: Community safety commissioning manager, LBBD" in body
    )
    assert "Due date: 21 October 2013" in body
    assert "It is now at least 5 working days late" in body
    raw = escalations[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert max(len(line) for line in raw.splitlines()) <= 76
    # Only the lead commissioner is told, not the partner CCG.
    assert "commissioner@bdccg.demo.example" not in {m["To"] for m in messages(outbox)}


def test_no_reminders_once_submitted(outbox: Path) -> None:
    upload("refuge", quarter=Q2, submit=True)
    run(date(2013, 10, 28))
    assert sent() == []
    assert all("Q2" not in m["Subject"] for m in messages(outbox))


def test_a_draft_still_gets_reminders(outbox: Path) -> None:
    upload("refuge", quarter=Q2, submit=False)
    run(date(2013, 10, 21))
    q2 = [m for m in messages(outbox) if "Q2" in m["Subject"]]
    assert [m["Subject"].split(":")[0] for m in q2] == ["Quarterly return due today"] * len(REFUGE_PEOPLE)
    assert "A draft has been saved but not submitted" in text_of(q2[0])


def test_a_failed_send_is_tried_again(outbox: Path) -> None:
    class Broken(Mailer):
        def send(self, message: object) -> None:
            raise OSError("mail server unreachable")

    with Broken(_config()) as mailer:
        report = send_reminders(db, date(2013, 10, 14), _config(), mailer)
    # Q2's reminder to Refuge's two people; Q1's (missing by then) to them and LBBD.
    assert report.failed == 5 and report.sent == 0
    assert "5 failed" in report.summary()
    assert sent() == []
    again = run(date(2013, 10, 14))
    assert (again.to_providers, again.escalations) == (4, 1)


def test_cli_prints_a_summary(outbox: Path) -> None:
    runner = _config_app().test_cli_runner()
    result = runner.invoke(args=["returns", "remind"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "reminders: 6 sent (4 providers, 2 escalations), 0 already sent"
    again = runner.invoke(args=["returns", "remind", "--date", "2013-12-02"])
    assert again.output.strip() == "reminders: 0 sent (0 providers, 0 escalations), 6 already sent"
    bad = runner.invoke(args=["returns", "remind", "--date", "2 December"])
    assert bad.exit_code == 2 and "write the date like 2013-12-02" in bad.output


def _config_app() -> Flask:
    from flask import current_app

    return current_app._get_current_object()  # type: ignore[attr-defined]
