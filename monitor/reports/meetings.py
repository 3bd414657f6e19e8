"""Adding and removing a board's meeting dates: each one transaction, every
refusal a ValidationFailed keyed by the form's field names."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.auth.models import Partnership
from monitor.errors import NotFound, ValidationFailed
from monitor.formatting import day_text
from monitor.reports.models import PackRecipient, PartnershipMeeting


def add_meeting(
    session: Session, partnership: Partnership, meeting_date: date | None, title: str, today: date
) -> PartnershipMeeting:
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if meeting_date is None:
        errors["meeting_date"] = "Enter the date of the meeting"
    elif meeting_date < today:
        errors["meeting_date"] = f"The date of the meeting must be today or in the future, {day_text(today)}"
    elif session.scalar(
        select(PartnershipMeeting.id).where(
            PartnershipMeeting.partnership_id == partnership.id,
            PartnershipMeeting.meeting_date == meeting_date,
        )
    ):
        errors["meeting_date"] = (
            f"{partnership.name} already has a meeting on {day_text(meeting_date)}. Enter a different date"
        )
    if len(title) > 200:
        errors["title"] = "The title must be 200 characters or fewer"
    if errors:
        raise ValidationFailed(errors)
    assert meeting_date is not None
    meeting = PartnershipMeeting(partnership=partnership, meeting_date=meeting_date, title=title)
    session.add(meeting)
    session.flush()
    return meeting


def meeting_of(session: Session, partnership_id: int, meeting_id: int) -> PartnershipMeeting:
    meeting = session.get(PartnershipMeeting, meeting_id)
    if meeting is None or meeting.partnership_id != partnership_id:
        raise NotFound()
    return meeting


def removal_refused(session: Session, meeting: PartnershipMeeting, today: date) -> str | None:
    """Why a meeting cannot be removed, if it cannot: its pack has gone to
    someone, or it has been held (it is then the record of what was sent)."""
    if meeting.meeting_date < today:
        return "A meeting that has been held cannot be removed"
    if meeting.delivery is not None and session.scalar(
        select(PackRecipient.id).where(PackRecipient.delivery_id == meeting.delivery.id).limit(1)
    ):
        return "The pack for this meeting has been sent to members, so the meeting cannot be removed"
    return None


def remove_meeting(session: Session, meeting: PartnershipMeeting, today: date) -> None:
    refused = removal_refused(session, meeting, today)
    if refused:
        raise ValidationFailed({"meeting": refused})
    session.delete(meeting)
    session.flush()
