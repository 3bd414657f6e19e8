"""Commands for a quarterly return. Every channel (the web page, the API, the
CLI) builds one, calls `run()` and only translates the result, so a message
the checks give reaches every channel word for word.

    SubmitReturn(user, contract, quarter, upload, submit, acknowledged).run()

answers one of:

    Refused(messages)                 nothing was stored; every reason, the workbook's own first
    NeedsAcknowledgement(warnings)    nothing was stored; send it again acknowledging these
    Stored(version)                   the next version, submitted or a draft

`validate()` gathers every problem (the return's rules, then the staged
workbook checks) without writing; `run()` validates and then stores in one
transaction, handing the look-ups the validation made (the expected return,
the framework in force) to storing instead of making them again.
`ReviewReturn` does the same for query, accept and reopen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from flask import current_app, has_app_context

from monitor.access.rules import can_upload
from monitor.auth.models import User
from monitor.clock import today as clock_today
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.errors import Forbidden, ValidationFailed
from monitor.formatting import day_text
from monitor.kpis.framework.history import items_in_force
from monitor.kpis.models import FrameworkItem, Return
from monitor.kpis.periods import Quarter
from monitor.kpis.returns import services
from monitor.kpis.returns.calendar import CalendarRules, ExpectedReturn, expected_return
from monitor.kpis.returns.ingest.file import too_large
from monitor.kpis.returns.ingest.pipeline import check_workbook
from monitor.kpis.returns.ingest.result import CheckedReturn, Message, Severity
from monitor.kpis.returns.ingest.settings import FileLimits
from monitor.kpis.vocabulary import ReturnState


def problem(text: str) -> Message:
    """A problem with the upload as a whole rather than a cell of the workbook."""
    return Message("", "", "", Severity.ERROR, text)


@dataclass(frozen=True)
class Upload:
    """A workbook as it arrived: the name the sender gave it and its bytes.
    `too_large`: more arrived than any return may be, so the channel stopped
    reading and `content` is not the file; the command refuses it as the
    staged checks refuse a file over the limit."""

    filename: str
    content: bytes
    too_large: bool = False

    @classmethod
    def receive(cls, filename: str, stream: IO[bytes], settings: Mapping[str, Any] | None = None) -> Upload:
        """Read from `stream`, at most one byte past the limit: beyond it the file is refused unread."""
        limit = FileLimits.from_settings(_config(settings)).max_upload_bytes
        content = stream.read(limit + 1)
        return cls(filename, b"", too_large=True) if len(content) > limit else cls(filename, content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Refused:
    """Nothing was stored. `messages` holds every reason: the workbook's in the
    order Excel lists cells, then the return's. `fields` names the request field
    behind a message that is not about the workbook (by its text)."""

    messages: list[Message]
    checked: CheckedReturn | None = None  # the workbook check, when it ran
    fields: Mapping[str, str] = field(default_factory=dict)
    conflict: bool = False  # lost a race with another writer: try again

    @property
    def summary(self) -> str:
        count = len(self.messages)
        if count == 1:
            return self.messages[0].message
        return f"The upload has {count} problems. Nothing was saved: correct them and upload it again"

    def field_of(self, message: Message) -> str:
        return self.fields.get(message.message, "file")


@dataclass(frozen=True)
class NeedsAcknowledgement:
    """Nothing was stored: the workbook passed, but has warnings to read first."""

    warnings: list[Message]
    checked: CheckedReturn

    @property
    def summary(self) -> str:
        return services.warnings_summary(self.warnings)


@dataclass(frozen=True)
class Stored:
    number: int
    submitted: bool
    state: ReturnState
    sha256: str
    warnings: list[Message]


SubmitOutcome = Refused | NeedsAcknowledgement | Stored


@dataclass(frozen=True)
class Ready:
    """Validated: the workbook passed and its warnings are acknowledged; what
    storing needs, already looked up."""

    expected: ExpectedReturn
    items: list[FrameworkItem]
    checked: CheckedReturn


def _config(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if settings is not None:
        return settings
    return current_app.config if has_app_context() else {}


def identical_message(number: int, submitted: bool) -> str:
    kind = "submitted" if submitted else "saved as a draft"
    return (
        f"This file is identical to version {number}, already {kind}, so nothing was saved. "
        "If you meant to send a corrected workbook, check you chose the file you saved your changes in"
    )


class SubmitReturn:
    """Check a workbook as `contract`'s return for `quarter` and, if it passes
    (with any warnings `acknowledged`), keep it as the next version.

    `user` None is an operator checking a file (`flask returns check`): it may
    validate but not store. `acknowledged` is True for every warning, or the
    texts of the warnings the sender was shown (anything new is asked again)."""

    def __init__(
        self,
        user: User | None,
        contract: Contract,
        quarter: Quarter,
        upload: Upload,
        submit: bool,
        acknowledged: bool | Collection[str] = False,
        *,
        settings: Mapping[str, Any] | None = None,
        today: date | None = None,
    ) -> None:
        self.user = user
        self.contract = contract
        self.quarter = quarter
        self.upload = upload
        self.submit = submit
        self.acknowledged = acknowledged
        self.settings = _config(settings)
        self.today = today or clock_today()

    def _acknowledges(self, warnings: list[Message]) -> bool:
        if isinstance(self.acknowledged, bool):
            return self.acknowledged or not warnings
        return {m.message for m in warnings} <= set(self.acknowledged)

    def validate(self) -> Refused | NeedsAcknowledgement | Ready:
        user, contract, quarter = self.user, self.contract, self.quarter
        if user is not None and not can_upload(user, contract):
            raise Forbidden("Only the provider or a commissioner of this contract can upload its returns")
        session = db.session()
        rules = CalendarRules.from_config(self.settings)
        expected = expected_return(session, contract, quarter, self.today, rules)
        fields: dict[str, str] = {}

        def refuse(name: str, text: str) -> None:
            fields[text] = name

        if expected is None:
            refuse(
                "period",
                f"{quarter.label} has not begun yet"
                if quarter.start > self.today
                else f"{contract.reference} does not report for {quarter.label}: it was not running then, "
                "or had no performance framework for that quarter",
            )
        record = expected.record if expected is not None else None
        if record is not None and record.state == ReturnState.ACCEPTED:
            refuse(
                "state",
                "This return has been accepted, so it cannot be changed. Ask the commissioner to reopen it first",
            )
        if self.submit and quarter.end >= self.today:
            refuse(
                "submit",
                f"You can submit the return for {quarter.label} once the quarter has ended, "
                f"from {day_text(quarter.next().start)}. Save it as a draft until then",
            )
        latest = record.latest if record is not None else None
        if (
            not fields
            and not self.upload.too_large
            and latest is not None
            and latest.sha256 == self.upload.sha256
            and (latest.submitted or not self.submit)
        ):
            # The same bytes again add nothing; a draft may still be submitted as it stands.
            refuse("file", identical_message(latest.number, latest.submitted))
            return Refused([problem(text) for text in fields], None, fields)

        # Looked up once, before the check: the check and storing are both handed them.
        items = items_in_force(session, contract.id, quarter)
        checked = self._check(items)
        if checked.errors or fields:
            return Refused([*checked.errors, *(problem(text) for text in fields)], checked, fields)
        assert expected is not None  # for mypy: a missing expectation is refused above
        if not self._acknowledges(checked.warnings):
            return NeedsAcknowledgement(checked.warnings, checked)
        return Ready(expected, items, checked)

    def _check(self, items: list[FrameworkItem]) -> CheckedReturn:
        if self.upload.too_large:
            limits = FileLimits.from_settings(self.settings)
            return CheckedReturn(self.contract.id, str(self.quarter), messages=[too_large(limits)])
        return check_workbook(
            db.session(),
            self.upload.content,
            self.upload.filename,
            contract=self.contract,
            quarter=self.quarter,
            user=self.user,
            settings=self.settings,
            items=items,
        )

    def run(self) -> SubmitOutcome:
        if self.user is None:
            raise ValueError("storing a return needs the user who sends it")
        outcome = self.validate()
        if not isinstance(outcome, Ready):
            return outcome
        try:
            with db.transaction() as session:
                version = services.store_version(
                    session,
                    self.user,
                    self.contract,
                    self.quarter,
                    self.upload.content,
                    self.upload.filename,
                    outcome.checked,
                    submit=self.submit,
                    acknowledge_warnings=True,
                    settings=self.settings,
                    today=self.today,
                    expected=outcome.expected,
                    items=outcome.items,
                )
                stored = Stored(
                    version.number,
                    version.submitted,
                    ReturnState(version.return_.state),
                    version.sha256,
                    outcome.checked.warnings,
                )
        except services.ReturnConflict:
            db.session.expire_all()
            return Refused([problem(services.CONFLICT_MESSAGE)], outcome.checked, conflict=True)
        except ValidationFailed as failed:
            db.session.expire_all()
            errors = dict(failed.errors)
            return Refused(
                [problem(text) for text in errors.values()],
                outcome.checked,
                {text: name for name, text in errors.items()},
            )
        return stored


# Review -----------------------------------------------------------------------


class ReviewAction:
    QUERY = "query"
    ACCEPT = "accept"
    REOPEN = "reopen"


@dataclass(frozen=True)
class Reviewed:
    state: ReturnState


ReviewOutcome = Refused | Reviewed


class ReviewReturn:
    """Query, accept or reopen a return, as a lead or partner commissioner.
    `text` is the comment (query, accept) or the reason (reopen);
    `seen_revision` the revision the reviewer looked at."""

    def __init__(
        self, user: User, record: Return | None, action: str, text: str = "", seen_revision: int | None = None
    ) -> None:
        self.user = user
        self.record = record
        self.action = action
        self.text = text
        self.seen_revision = seen_revision

    def run(self) -> ReviewOutcome:
        if self.record is None:
            text = f"Nothing has been uploaded for this quarter yet, so there is nothing to {self.action}"
            return Refused([problem(text)], fields={text: "state"})
        act = {
            ReviewAction.QUERY: services.query_return,
            ReviewAction.ACCEPT: services.accept_return,
            ReviewAction.REOPEN: services.reopen_return,
        }[self.action]
        try:
            with db.transaction() as session:
                record = session.get(Return, self.record.id)
                assert record is not None
                act(session, self.user, record, self.text, seen_revision=self.seen_revision)
                state = ReturnState(record.state)
        except services.ReturnConflict:
            db.session.expire_all()
            text = services.CONFLICT_MESSAGE
            return Refused([problem(text)], fields={text: "revision"}, conflict=True)
        except ValidationFailed as failed:
            db.session.expire_all()
            errors = dict(failed.errors)
            return Refused(
                [problem(text) for text in errors.values()],
                fields={text: name for name, text in errors.items()},
            )
        return Reviewed(state)
