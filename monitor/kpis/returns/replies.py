"""Answering a commissioner's query in words, and the thread of queries and replies.

A query (or a reopening, which sends an accepted return back as queried) asks
the provider to check something. Often the figures are right and the answer
is a sentence: "the police referrals include a one-off MASH sweep in May". A
reply says that without uploading the workbook again. Only when a figure must
change does the provider upload a new version, as before.

A reply moves the return from queried to resubmitted: the state the calendar,
the review page and the commissioner's counts already read as "back with the
commissioner, waiting for review" (calendar.AWAITING_REVIEW), and the one the
existing accept and query actions start from. Leaving it queried would keep it
on the provider's list of things to do and off the commissioner's, and the
commissioner could not accept it (acceptance needs a return under review).
The history records "replied to query" with the version the reply stands by.

The reply is its own row (`ReturnReply`, audited like every change to a
return), linked to the query it answers. No email goes to the commissioner:
a query sends the provider no email either (it shows on the return page), so
a reply shows on the commissioner's pages the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.access.rules import can_upload
from monitor.auth.models import User
from monitor.db import db
from monitor.errors import Forbidden, ValidationFailed
from monitor.kpis.models import Return, ReturnEvent, ReturnReply
from monitor.kpis.returns import services
from monitor.kpis.vocabulary import EventKind, ReturnState

MAX_REPLY_LENGTH = services.MAX_COMMENT_LENGTH
MISSING_REPLY = "Enter your reply to the commissioner's query"
TOO_LONG = f"Keep your reply to {MAX_REPLY_LENGTH} characters or fewer"
NOT_QUERIED = "You can only reply to a return the commissioner has queried; this one is {state}"
# What asks the provider something: a query, or reopening an accepted return.
ASKING = (EventKind.QUERIED.value, EventKind.REOPENED.value)


def open_query(ret: Return) -> ReturnEvent | None:
    """The query (or reopening) the return is waiting on, when it is queried."""
    if ret.state != ReturnState.QUERIED:
        return None
    asked = [event for event in ret.events if event.kind in ASKING]
    return asked[-1] if asked else None


def reply_to_query(
    session: Session, user: User, ret: Return, text: str, *, seen_revision: int | None = None
) -> ReturnReply:
    """Answer the open query on `ret` in words; the return goes back for review.
    Raises ValidationFailed with every problem, or Forbidden; writes nothing then."""
    if not can_upload(user, ret.contract):
        raise Forbidden("Only the provider of this contract can reply to queries on its returns")
    if seen_revision is not None and seen_revision != ret.revision:
        raise services.ReturnConflict()
    said = (text or "").strip()
    errors: dict[str, str] = {}
    if not said:
        errors["reply"] = MISSING_REPLY
    elif len(said) > MAX_REPLY_LENGTH:
        errors["reply"] = TOO_LONG
    query = open_query(ret)
    if query is None:
        errors["state"] = NOT_QUERIED.format(state=ret.state)
    if errors:
        raise ValidationFailed(errors)
    assert query is not None  # for mypy: refused above
    reply = ReturnReply(return_id=ret.id, query_event_id=query.id, text=said, by_id=user.id)
    # The audit trail files the reply under the contract (see services._link_to_contract).
    reply.contract_id = ret.contract_id  # type: ignore[attr-defined]
    session.add(reply)
    ret.state = ReturnState.RESUBMITTED.value
    services.touch(ret)
    latest = services.latest_submitted(ret)
    services.add_event(session, user, ret, EventKind.REPLIED, version=latest.number if latest else None)
    services._flush(session)
    return reply


@dataclass(frozen=True)
class Replied:
    reply_id: int


@dataclass(frozen=True)
class ReplyRefused:
    """Nothing was stored; `errors` maps a field (reply, state, revision) to its message."""

    errors: dict[str, str]
    conflict: bool = False


class ReplyToQuery:
    """The command every channel runs: validate, then store in one transaction."""

    def __init__(self, user: User, record: Return, text: str, seen_revision: int | None = None) -> None:
        self.user = user
        self.record = record
        self.text = text
        self.seen_revision = seen_revision

    def run(self) -> Replied | ReplyRefused:
        try:
            with db.transaction() as session:
                record = session.get(Return, self.record.id)
                assert record is not None
                reply = reply_to_query(
                    session, self.user, record, self.text, seen_revision=self.seen_revision
                )
                done = Replied(reply.id)
        except services.ReturnConflict:
            db.session.expire_all()
            return ReplyRefused({"revision": services.CONFLICT_MESSAGE}, conflict=True)
        except ValidationFailed as failed:
            db.session.expire_all()
            return ReplyRefused(dict(failed.errors))
        return done


# The thread ------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadEntry:
    """One message in a return's thread: a query, a reopening or a reply."""

    kind: str  # "query", "reopened" or "reply"
    heading: str  # "Query from the commissioner", "Reply from the provider"
    name: str  # the person, or "A removed user"
    organisation: str  # their organisation's name, or ""
    at: datetime
    text: str


def _who(user: User | None) -> tuple[str, str]:
    if user is None:
        return "A removed user", ""
    return user.name, user.organisation.name if user.organisation is not None else ""


def query_thread(session: Session, record: Return | None) -> list[ThreadEntry]:
    """The queries, reopenings and replies on a return, oldest first."""
    if record is None:
        return []
    entries: list[tuple[tuple[datetime, int, int], ThreadEntry]] = []
    for event in record.events:
        if event.kind not in ASKING:
            continue
        name, organisation = _who(event.by)
        reopened = event.kind == EventKind.REOPENED
        heading = "Reopened by the commissioner" if reopened else "Query from the commissioner"
        entry = ThreadEntry(
            "reopened" if reopened else "query", heading, name, organisation, event.at, event.comment
        )
        entries.append(((event.at, 0, event.id), entry))
    replies = session.scalars(
        select(ReturnReply).where(ReturnReply.return_id == record.id).order_by(ReturnReply.at, ReturnReply.id)
    )
    for reply in replies:
        name, organisation = _who(reply.by)
        entry = ThreadEntry("reply", "Reply from the provider", name, organisation, reply.at, reply.text)
        entries.append(((reply.at, 1, reply.id), entry))
    return [entry for _, entry in sorted(entries, key=lambda pair: pair[0])]
