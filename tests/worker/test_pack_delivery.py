"""Board packs emailed to each board's members before its meetings
(monitor/reports/delivery.py, the `deliver_board_packs` task and
`flask reports deliver-packs`).

Most tests use the demo (its Barking and Dagenham board meets on 13 May 2014,
so its pack is due on 6 May) and a stand-in for the pack, since the rule, not
the workbook, is under test; the workbook itself is made from the real
warehouse by tests/faults/test_superset_down.py.
"""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select, update

from monitor.auth.models import Partnership, User
from monitor.db import db
from monitor.kpis.returns.mail import Mailer
from monitor.reports.audience import Audience
from monitor.reports.delivery import DeliveryReport, DeliveryRules, deliver_packs, pack_status
from monitor.reports.models import PackDelivery, PackRecipient, PartnershipMeeting
from monitor.reports.service import BoardPack
from monitor.reports.writer import XLSX_MIMETYPE
from monitor.worker.schedule import BOARD_PACKS, beat_schedule
from tests.conftest import DEMO_USERS, Auth

BD_BOARD = "Barking and Dagenham Health and Wellbeing Board"
HALTON_FORUM = "Halton Domestic Abuse Forum"
SEND_DAY = date(2014, 5, 6)  # five working days before the demo's 13 May meeting
RULES = DeliveryRules(working_days_before=5, return_due_working_days=15, threshold=5)


def test_the_send_day_skips_bank_holidays() -> None:
    # Monday 5 May 2014 was the Early May bank holiday.
    assert RULES.send_day(date(2014, 5, 12)) == date(2014, 5, 2)
    assert RULES.send_day(date(2014, 5, 13)) == date(2014, 5, 6)
    assert DeliveryRules(3, 15, 5).send_day(date(2014, 5, 8)) == date(2014, 5, 2)


def test_the_pack_covers_the_latest_quarter_whose_returns_were_due() -> None:
    # Q4 2013/14 ended on 31 March; its returns were due 15 working days on,
    # on 23 April (after Easter). The day before, the pack is still Q3's.
    assert str(RULES.quarter(date(2014, 4, 22))) == "2013-14-Q3"
    assert str(RULES.quarter(date(2014, 4, 23))) == "2013-14-Q4"
    assert str(RULES.quarter(date(2014, 7, 1))) == "2013-14-Q4"
    assert str(RULES.quarter(date(2014, 8, 1))) == "2014-15-Q1"


def test_the_schedule_delivers_packs_on_weekday_mornings() -> None:
    from tests.worker.test_tasks import _settings

    entry = beat_schedule(_settings())[BOARD_PACKS]
    assert entry["task"] == "monitor.worker.tasks.deliver_board_packs"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({6}, {30})
    assert entry["schedule"].day_of_week == {1, 2, 3, 4, 5}
    later = beat_schedule(_settings(SCHEDULE_BOARD_PACKS_AT="05:45"))[BOARD_PACKS]["schedule"]
    assert (later.hour, later.minute) == ({5}, {45})


class Packs:
    """A stand-in for the board pack, counting what was made."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str]] = []

    def __call__(self, session: Any, audience: Audience, period: str, produced_on: date) -> BoardPack:
        self.made.append((audience.name, period))
        short = "Q4 2013/14" if period == "2013-14-Q4" else period
        data = SimpleNamespace(
            period=SimpleNamespace(short_label=short, label=f"{short} (January to March 2014)")
        )
        return BoardPack(f"board-pack-{period}.xlsx", b"PK pretend workbook", data)  # type: ignore[arg-type]


@pytest.fixture
def outbox(demo: Flask, tmp_path: Path) -> Path:
    demo.config.update(OUTBOX_DIR=str(tmp_path / "outbox"), SMTP_HOST="", TODAY=SEND_DAY.isoformat())
    return tmp_path / "outbox"


def run(on: date, packs: Any = None, mailer: Mailer | None = None, final: bool = True) -> DeliveryReport:
    settings = current_app.config
    with mailer or Mailer(settings) as using:
        return deliver_packs(db, on, settings, using, make_pack=packs or Packs(), final=final)


def messages(outbox: Path) -> list[EmailMessage]:
    if not outbox.exists():
        return []
    return [
        cast(EmailMessage, message_from_bytes(p.read_bytes(), policy=policy.default))
        for p in sorted(outbox.glob("*.eml"))
    ]


def body_of(message: EmailMessage) -> str:
    """The plain-text body with line wrapping undone."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return " ".join(str(body.get_content()).split())


def to(outbox: Path) -> list[str]:
    return sorted(str(m["To"]) for m in messages(outbox))


def meeting(board: str, on: date) -> PartnershipMeeting:
    return db.session.execute(
        select(PartnershipMeeting)
        .join(Partnership)
        .where(Partnership.name == board, PartnershipMeeting.meeting_date == on)
    ).scalar_one()


def add_board_member(board: str, email: str) -> None:
    partnership = db.session.execute(select(Partnership).where(Partnership.name == board)).scalar_one()
    with db.transaction() as session:
        session.add(
            User(
                email=email,
                name="Second Member",
                role="board",
                partnership_id=partnership.id,
                password_hash="x",
            )
        )


def status_of(board: str, on: date, today: date) -> str:
    db.session.expire_all()
    found = meeting(board, on)
    return pack_status(found, found.delivery, today, RULES).text


def test_a_pack_goes_once_to_each_member_with_the_workbook(outbox: Path) -> None:
    packs = Packs()
    report = run(SEND_DAY, packs)
    assert [o.result for o in report.outcomes] == ["sent"]
    assert packs.made == [(BD_BOARD, "2013-14-Q4")]
    (message,) = messages(outbox)
    assert message["To"] == DEMO_USERS["bd_board"]
    assert message["Subject"] == f"Board pack for the meeting on 13 May 2014: {BD_BOARD}, Q4 2013/14"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == XLSX_MIMETYPE
    assert attachment.get_filename() == "board-pack-2013-14-Q4.xlsx"
    assert attachment.get_content() == b"PK pretend workbook"
    assert "13 May 2014" in body_of(message)

    again = run(SEND_DAY, packs)  # a second run, and the next day's: nothing is sent twice
    later = run(date(2014, 5, 7), packs)
    assert again.outcomes == [] and later.outcomes == []
    assert len(messages(outbox)) == 1 and len(packs.made) == 1
    status = status_of(BD_BOARD, date(2014, 5, 13), SEND_DAY)  # sent at the real clock's time
    assert status.startswith("Sent on ") and status.endswith(" to 1 member")


def test_nothing_is_sent_before_the_send_day_or_after_the_meeting(outbox: Path) -> None:
    assert run(date(2014, 5, 2)).outcomes == []
    assert status_of(BD_BOARD, date(2014, 5, 13), date(2014, 5, 2)) == (
        "To be sent on 6 May 2014 (Q4 2013/14)"
    )
    # The run on the send day and every day to the meeting were missed: the
    # meeting has been held, so its pack is not sent late.
    assert run(date(2014, 5, 14)).outcomes == []
    assert messages(outbox) == []
    assert status_of(BD_BOARD, date(2014, 5, 13), date(2014, 5, 14)).startswith("Not sent")


def test_a_missed_send_day_is_caught_up_before_the_meeting(outbox: Path) -> None:
    report = run(date(2014, 5, 9))
    assert [(o.label, o.result) for o in report.outcomes] == [(f"{BD_BOARD}, 13 May 2014", "sent")]
    assert to(outbox) == [DEMO_USERS["bd_board"]]


def test_after_a_partial_failure_the_retry_sends_only_to_the_rest(outbox: Path) -> None:
    add_board_member(BD_BOARD, "second@bd-hwb.demo.example")

    class Refusing(Mailer):
        def send(self, message: EmailMessage) -> None:
            if message["To"] == "second@bd-hwb.demo.example":
                raise ConnectionRefusedError("mail server down")
            super().send(message)

    report = run(SEND_DAY, mailer=Refusing(current_app.config), final=False)
    assert [o.result for o in report.outcomes] == ["will retry"]
    assert to(outbox) == [DEMO_USERS["bd_board"]]
    assert "so far" in status_of(BD_BOARD, date(2014, 5, 13), SEND_DAY)

    retried = run(SEND_DAY)
    assert [(o.result, o.sent) for o in retried.outcomes] == [("sent", 1)]
    assert to(outbox) == sorted([DEMO_USERS["bd_board"], "second@bd-hwb.demo.example"])
    assert status_of(BD_BOARD, date(2014, 5, 13), SEND_DAY).endswith(" to 2 members")


def test_a_member_another_worker_has_just_sent_to_is_not_sent_again(outbox: Path) -> None:
    """Two workers at once: while this run builds the pack, the other claims
    the member and commits; this run's claim then fails on the unique key."""

    class Racing(Packs):
        def __call__(self, session: Any, audience: Audience, period: str, produced_on: date) -> BoardPack:
            delivery_id = db.session.scalar(select(PackDelivery.id))
            with db.engine.begin() as other_worker:
                other_worker.execute(
                    PackRecipient.__table__.insert().values(  # type: ignore[attr-defined]
                        delivery_id=delivery_id, email=DEMO_USERS["bd_board"], sent_at=date(2014, 5, 6)
                    )
                )
            return super().__call__(session, audience, period, produced_on)

    report = run(SEND_DAY, Racing())
    assert [(o.result, o.sent) for o in report.outcomes] == [("sent", 0)]
    assert messages(outbox) == []
    assert db.session.scalar(select(func.count(PackRecipient.id))) == 1


def _task(app: Flask, day: date) -> Any:
    result = (
        app.extensions["celery"]
        .tasks["monitor.worker.tasks.deliver_board_packs"]
        .apply(args=(day.isoformat(),))
    )
    assert result.successful(), result.traceback
    return result.result


def test_when_retries_run_out_the_admins_are_told_once(outbox: Path, demo: Flask) -> None:
    # The demo fixture has no warehouse: every try fails as if it were down.
    summary = _task(demo, SEND_DAY)
    assert "failed" in summary
    (told,) = messages(outbox)
    assert told["To"] == DEMO_USERS["admin"]
    assert told["Subject"] == f"Board pack not sent: {BD_BOARD}, meeting on 13 May 2014"
    text = body_of(told)
    assert "The warehouse has not been loaded yet" in text
    status = status_of(BD_BOARD, date(2014, 5, 13), SEND_DAY)
    assert status.startswith("Failed: The warehouse has not been loaded yet")

    _task(demo, date(2014, 5, 7))  # still failing the next day: tried again, not told again
    assert len(messages(outbox)) == 1

    client = demo.test_client()
    Auth(client).sign_in(DEMO_USERS["admin"])  # with the admin's two-factor code
    bd = db.session.scalar(select(Partnership.id).where(Partnership.name == BD_BOARD))
    page = client.get(f"/admin/partnerships/{bd}/meetings").get_data(as_text=True)
    assert "Failed" in page and "The warehouse has not been loaded yet" in page


def test_a_board_without_members_is_reported_not_skipped(outbox: Path) -> None:
    with db.transaction() as session:
        session.execute(update(User).where(User.email == DEMO_USERS["halton_board"]).values(active=False))
    report = run(date(2014, 6, 3))  # five working days before the forum's 10 June meeting
    assert [(o.board, o.result) for o in report.outcomes] == [(HALTON_FORUM, "failed")]
    assert "no active board members" in report.outcomes[0].reason
    (told,) = messages(outbox)
    assert told["To"] == DEMO_USERS["admin"]
    assert "Add a board user" in body_of(told)
    assert status_of(HALTON_FORUM, date(2014, 6, 10), date(2014, 6, 3)).startswith(
        "Failed: Halton Domestic Abuse Forum has no active board members"
    )


def test_the_task_skips_days_that_are_not_working_days(outbox: Path, demo: Flask) -> None:
    assert _task(demo, date(2014, 5, 5)) == "not a working day"  # Early May bank holiday
    assert messages(outbox) == []


def test_the_command_runs_the_same_delivery(
    outbox: Path, demo: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import monitor.reports.delivery as delivery

    monkeypatch.setattr(delivery, "warehouse_pack_maker", lambda threshold: Packs())
    result = demo.test_cli_runner().invoke(args=["reports", "deliver-packs", "--date", "2014-05-06"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("board packs: 1 sent (1 copy)")
    assert to(outbox) == [DEMO_USERS["bd_board"]]
    again = demo.test_cli_runner().invoke(args=["reports", "deliver-packs", "--date", "2014-05-06"])
    assert again.output.strip() == "board packs: none due on 6 May 2014"
