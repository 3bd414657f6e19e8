"""Board packs sent to each board's members before its meetings: the one home
of the rule, shared by the worker's task, the `flask reports deliver-packs`
command and the admin page that shows what will happen.

The rule:

- A meeting's pack is sent on its *send day*, BOARD_PACK_WORKING_DAYS_BEFORE
  working days (England and Wales bank holidays excluded) before the meeting.
- It covers the latest quarter whose returns were due (RETURN_DUE_WORKING_DAYS
  after the quarter's end) on or before the send day. Returns due later may
  still be arriving, so a quarter is only packed once providers have had
  their full time to report; a board meeting soon after a quarter's due date
  gets that quarter, one just before it gets the quarter before.
- A run on day D sends every pack whose send day is D or earlier and whose
  meeting is D or later, not sent yet: a missed run is caught up by the next,
  and a meeting already held is never sent a pack late.
- The pack goes to the partnership's active board users, each once. The
  record of a member's copy is written in the same transaction as the
  message is sent, so a second run, a retry after a partial failure or a
  second worker racing this one never sends it to them again. (A crash
  between the message leaving and the commit is the one case that can send a
  copy twice; it can never send none while saying it did.)
- A failure only a person can fix (no figures for the quarter, no board
  members) is recorded on the meeting and the administrators are told at
  once. Anything else (the mail server or the warehouse unavailable) is
  retried by the worker; when its retries run out, the failure is recorded
  and reported the same way. Administrators hear of a meeting's failure
  once; later runs keep trying until the meeting has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import render_template
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.auth.models import Role, User
from monitor.db import Database
from monitor.formatting import count_text, day_text, london_time
from monitor.kpis.periods import Quarter, add_working_days, due_date
from monitor.kpis.returns.mail import Mailer, build_message
from monitor.kpis.returns.reminders import wrap
from monitor.model_helpers import utcnow
from monitor.reports.audience import Audience
from monitor.reports.models import PackDelivery, PackRecipient, PartnershipMeeting
from monitor.reports.pack_data import PackError, WarehouseUnavailable
from monitor.reports.service import BoardPack, make_board_pack, pack_warehouse
from monitor.reports.writer import XLSX_MIMETYPE

log = logging.getLogger(__name__)

DEFAULT_WORKING_DAYS_BEFORE = 5


class NeedsAPerson(Exception):
    """The pack cannot go until someone changes something; the message says what."""


@dataclass(frozen=True)
class DeliveryRules:
    working_days_before: int
    return_due_working_days: int
    threshold: int

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> DeliveryRules:
        return cls(
            working_days_before=int(
                settings.get("BOARD_PACK_WORKING_DAYS_BEFORE", DEFAULT_WORKING_DAYS_BEFORE)
            ),
            return_due_working_days=int(settings["RETURN_DUE_WORKING_DAYS"]),
            threshold=int(settings["DISCLOSURE_THRESHOLD"]),
        )

    def send_day(self, meeting_date: date) -> date:
        return add_working_days(meeting_date, -self.working_days_before)

    def quarter(self, send_day: date) -> Quarter:
        """The latest quarter whose returns were due on or before `send_day`."""
        quarter = Quarter.containing(send_day).previous()
        while due_date(quarter, self.return_due_working_days) > send_day:
            quarter = quarter.previous()
        return quarter


@dataclass(frozen=True)
class PackStatus:
    """What the admin page says about a meeting's pack."""

    state: str  # "waiting", "due", "sending", "sent", "failed", "missed"
    text: str
    reason: str = ""  # a failure's, in plain words


def pack_status(
    meeting: PartnershipMeeting, delivery: PackDelivery | None, today: date, rules: DeliveryRules
) -> PackStatus:
    send_day = rules.send_day(meeting.meeting_date)
    quarter = rules.quarter(send_day)
    short = quarter.short_label
    if delivery is not None and delivery.sent_at is not None:
        members = count_text(delivery.recipients, "member")
        return PackStatus("sent", f"Sent on {day_text(london_time(delivery.sent_at).date())} to {members}")
    if delivery is not None and delivery.failure:
        return PackStatus("failed", f"Failed: {delivery.failure}", delivery.failure)
    if meeting.meeting_date < today:
        return PackStatus("missed", "Not sent: the meeting was held before a pack went out")
    if delivery is not None and delivery.sent_to:
        return PackStatus(
            "sending", f"Sent to {count_text(len(delivery.sent_to), 'member')} so far; the rest will follow"
        )
    if send_day <= today:
        return PackStatus("due", f"Due now ({short}): sent on the next run")
    return PackStatus("waiting", f"To be sent on {day_text(send_day)} ({short})")


# Makes the pack for an audience and quarter (a key like 2013-14-Q4) as at a day.
PackMaker = Callable[[Session, Audience, str, date], BoardPack]


def warehouse_pack_maker(threshold: int) -> PackMaker:
    """The board pack the board-pack command makes, from the app's warehouse."""

    def make(session: Session, audience: Audience, period: str, produced_on: date) -> BoardPack:
        return make_board_pack(
            session, pack_warehouse(), audience, period, threshold=threshold, produced_on=produced_on
        )

    return make


@dataclass(frozen=True)
class MeetingOutcome:
    meeting_id: int
    board: str
    meeting_date: date
    period: str
    result: str  # "sent", "already sent", "failed", "will retry"
    sent: int = 0
    reason: str = ""

    @property
    def label(self) -> str:
        return f"{self.board}, {day_text(self.meeting_date)}"


@dataclass
class DeliveryReport:
    day: date
    outcomes: list[MeetingOutcome] = field(default_factory=list)

    def of(self, result: str) -> list[MeetingOutcome]:
        return [o for o in self.outcomes if o.result == result]

    @property
    def will_retry(self) -> bool:
        return bool(self.of("will retry"))

    def summary(self) -> str:
        if not self.outcomes:
            return f"board packs: none due on {day_text(self.day)}"
        sent = self.of("sent")
        copies = sum(o.sent for o in sent)
        parts = [f"{len(sent)} sent ({count_text(copies, 'copy', 'copies')})"]
        if self.of("already sent"):
            parts.append(f"{len(self.of('already sent'))} already sent")
        for kind in ("failed", "will retry"):
            for outcome in self.of(kind):
                parts.append(f"{outcome.label} {kind}: {outcome.reason}")
        return "board packs: " + "; ".join(parts)


@dataclass(frozen=True)
class _Due:
    meeting_id: int
    partnership_id: int
    board: str
    meeting_date: date
    title: str
    period: str


def due_meetings(session: Session, day: date, rules: DeliveryRules) -> list[_Due]:
    """Meetings on `day` or later whose send day has come and whose pack has not gone."""
    query = (
        select(PartnershipMeeting)
        .outerjoin(PackDelivery, PackDelivery.meeting_id == PartnershipMeeting.id)
        .where(PartnershipMeeting.meeting_date >= day, PackDelivery.sent_at.is_(None))
        .order_by(PartnershipMeeting.meeting_date, PartnershipMeeting.id)
    )
    due = []
    for meeting in session.scalars(query):
        send_day = rules.send_day(meeting.meeting_date)
        if send_day <= day:
            due.append(
                _Due(
                    meeting.id,
                    meeting.partnership_id,
                    meeting.partnership.name,
                    meeting.meeting_date,
                    meeting.title,
                    str(rules.quarter(send_day)),
                )
            )
    return due


def board_members(session: Session, partnership_id: int) -> list[User]:
    query = (
        select(User)
        .where(User.role == Role.BOARD.value, User.partnership_id == partnership_id, User.active.is_(True))
        .order_by(User.email)
    )
    return list(session.scalars(query))


def active_admins(session: Session) -> list[User]:
    query = select(User).where(User.role == Role.ADMIN.value, User.active.is_(True)).order_by(User.email)
    return list(session.scalars(query))


def _delivery(database: Database, due: _Due) -> PackDelivery:
    """The meeting's delivery row, made in a transaction of its own if it is the first run."""
    session = database.session()
    found = session.scalar(select(PackDelivery).where(PackDelivery.meeting_id == due.meeting_id))
    if found is None:
        try:
            with database.transaction() as session:
                session.add(PackDelivery(meeting_id=due.meeting_id, period=due.period))
        except IntegrityError:
            pass  # another run made it first
        found = database.session().scalar(
            select(PackDelivery).where(PackDelivery.meeting_id == due.meeting_id)
        )
    assert found is not None
    return found


def _sent_to(session: Session, delivery_id: int) -> set[str]:
    return set(session.scalars(select(PackRecipient.email).where(PackRecipient.delivery_id == delivery_id)))


def compose_pack(settings: Mapping[str, Any], due: _Due, member: User, pack: BoardPack) -> tuple[str, Any]:
    period = pack.data.period
    subject = f"Board pack for the meeting on {day_text(due.meeting_date)}: {due.board}, {period.short_label}"
    body = render_template(
        "emails/board_pack.txt",
        member=member,
        board=due.board,
        meeting=day_text(due.meeting_date),
        title=due.title,
        period=period,
        filename=pack.filename,
        link=str(settings.get("SERVICE_URL") or "").rstrip("/") + "/reports/board-pack",
    )
    message = build_message(settings, member.email, subject, wrap(body))
    maintype, subtype = XLSX_MIMETYPE.split("/")
    message.add_attachment(pack.content, maintype=maintype, subtype=subtype, filename=pack.filename)
    return subject, message


def _deliver_one(
    database: Database,
    due: _Due,
    day: date,
    settings: Mapping[str, Any],
    mailer: Mailer,
    make_pack: PackMaker,
) -> MeetingOutcome:
    """Send one meeting's pack to the members who do not have it. Raises
    NeedsAPerson, or whatever went wrong for the worker to retry."""
    delivery = _delivery(database, due)
    delivery_id = delivery.id
    if delivery.sent_at is not None:
        return MeetingOutcome(due.meeting_id, due.board, due.meeting_date, due.period, "already sent")
    session = database.session()
    members = board_members(session, due.partnership_id)
    if not members:
        raise NeedsAPerson(
            f"{due.board} has no active board members to send the pack to. "
            "Add a board user for it on the Users page"
        )
    have_it = _sent_to(session, delivery_id)
    waiting = [m for m in members if m.email not in have_it]
    sent = 0
    failures: list[Exception] = []
    if waiting:
        try:
            pack = make_pack(session, Audience("partnership", due.partnership_id, due.board), due.period, day)
        except WarehouseUnavailable:
            raise
        except PackError as error:
            raise NeedsAPerson(str(error)) from error
        for member in waiting:
            _subject, message = compose_pack(settings, due, member, pack)
            try:
                with database.transaction() as claim:
                    claim.add(PackRecipient(delivery_id=delivery_id, email=member.email))
                    claim.flush()  # claims this member's copy: a second run at once fails here
                    mailer.send(message)
            except IntegrityError:
                continue  # another run sent it
            except Exception as error:
                log.warning(
                    "board pack not sent to a member",
                    extra={"meeting_id": due.meeting_id, "board": due.board, "reason": str(error)},
                )
                failures.append(error)
                continue
            sent += 1
    if failures:
        raise failures[0]
    with database.transaction() as session:
        recipients = len(_sent_to(session, delivery_id))
        session.execute(
            update(PackDelivery)
            .where(PackDelivery.id == delivery_id)
            .values(
                sent_at=utcnow(),
                recipients=recipients,
                failed_at=None,
                failure=None,
                failure_reported_at=None,
            )
        )
    return MeetingOutcome(due.meeting_id, due.board, due.meeting_date, due.period, "sent", sent=sent)


def plain_reason(error: Exception) -> str:
    """Words for an administrator: the message of errors that have one, the kind of the rest."""
    if isinstance(error, NeedsAPerson | PackError):
        return str(error)
    if isinstance(error, OSError) or type(error).__module__.startswith("smtplib"):
        return (
            f"The mail server could not be reached or refused the message ({error}). Check the SMTP settings"
        )
    return f"{type(error).__name__}: {error}"[:900]


def _record_failure(
    database: Database, due: _Due, reason: str, settings: Mapping[str, Any], mailer: Mailer
) -> None:
    """Keep the reason on the meeting and tell the administrators, once per meeting."""
    delivery = _delivery(database, due)
    delivery_id = delivery.id
    with database.transaction() as session:
        session.execute(
            update(PackDelivery)
            .where(PackDelivery.id == delivery_id)
            .values(failed_at=utcnow(), failure=reason[:1000])
        )
    log.error(
        "board pack not delivered",
        extra={
            "meeting_id": due.meeting_id,
            "board": due.board,
            "meeting_date": due.meeting_date.isoformat(),
            "period": due.period,
            "reason": reason,
        },
    )
    try:
        with database.transaction() as session:
            claimed = session.execute(
                update(PackDelivery)
                .where(PackDelivery.id == delivery_id, PackDelivery.failure_reported_at.is_(None))
                .values(failure_reported_at=utcnow())
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return  # told already
            admins = active_admins(session)
            for admin in admins:
                mailer.send(_failure_message(settings, due, admin, reason))
    except Exception:
        # The claim is rolled back with the failed message, so the next run tells them.
        log.exception("administrators not told of a board pack failure", extra={"meeting_id": due.meeting_id})
        return
    if not admins:
        log.error(
            "no active administrator to tell of a board pack failure", extra={"meeting_id": due.meeting_id}
        )


def _failure_message(settings: Mapping[str, Any], due: _Due, admin: User, reason: str) -> Any:
    subject = f"Board pack not sent: {due.board}, meeting on {day_text(due.meeting_date)}"
    body = render_template(
        "emails/board_pack_failed.txt",
        admin=admin,
        board=due.board,
        meeting=day_text(due.meeting_date),
        quarter=Quarter.parse(due.period),
        reason=reason,
        link=str(settings.get("SERVICE_URL") or "").rstrip("/") + "/admin/organisations",
    )
    return build_message(settings, admin.email, subject, wrap(body))


def deliver_packs(
    database: Database,
    day: date,
    settings: Mapping[str, Any],
    mailer: Mailer,
    *,
    make_pack: PackMaker | None = None,
    final: bool = True,
) -> DeliveryReport:
    """Send every pack due on `day`. With `final` False (a run the worker will
    retry), a failure someone might not need to fix is left for the retry
    rather than recorded and reported."""
    rules = DeliveryRules.from_config(settings)
    maker = make_pack or warehouse_pack_maker(rules.threshold)
    report = DeliveryReport(day)
    for due in due_meetings(database.session(), day, rules):
        try:
            outcome = _deliver_one(database, due, day, settings, mailer, maker)
        except NeedsAPerson as error:
            database.session.rollback()
            _record_failure(database, due, plain_reason(error), settings, mailer)
            outcome = MeetingOutcome(
                due.meeting_id, due.board, due.meeting_date, due.period, "failed", reason=str(error)
            )
        except Exception as error:
            database.session.rollback()
            reason = plain_reason(error)
            if final:
                _record_failure(database, due, reason, settings, mailer)
                outcome = MeetingOutcome(
                    due.meeting_id, due.board, due.meeting_date, due.period, "failed", reason=reason
                )
            else:
                log.warning(
                    "board pack delivery will be retried",
                    extra={"meeting_id": due.meeting_id, "board": due.board, "reason": reason},
                )
                outcome = MeetingOutcome(
                    due.meeting_id, due.board, due.meeting_date, due.period, "will retry", reason=reason
                )
        report.outcomes.append(outcome)
    return report


def meetings_with_status(
    session: Session, partnership_id: int, today: date, rules: DeliveryRules
) -> tuple[
    list[tuple[PartnershipMeeting, PackStatus, date]], list[tuple[PartnershipMeeting, PackStatus, date]]
]:
    """A partnership's meetings, upcoming (soonest first) and past (latest first),
    each with its pack's status and send day."""
    meetings = session.scalars(
        select(PartnershipMeeting)
        .where(PartnershipMeeting.partnership_id == partnership_id)
        .order_by(PartnershipMeeting.meeting_date)
    ).all()
    rows = [(m, pack_status(m, m.delivery, today, rules), rules.send_day(m.meeting_date)) for m in meetings]
    upcoming = [r for r in rows if r[0].meeting_date >= today]
    past = [r for r in reversed(rows) if r[0].meeting_date < today]
    return upcoming, past
