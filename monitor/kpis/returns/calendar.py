"""The reporting calendar: which quarterly returns are due, and where each stands.

A return is expected for every quarter a contract was live for at least one
day, once a performance framework is in force for that quarter. It falls due
a number of working days after the quarter ends (a setting). A return not
submitted by then is late, and one still not submitted ten working days after
that is missing.

A contract that ended expects no return after its last quarter: a return
stored for a later quarter and never submitted (a draft left from before the
end was known) is not owed, not listed and not offered for upload; the row is
kept, not deleted (`owed`). The return for a quarter the contract started or
ended in covers only its days in force (DV-001's January to March 2014 return
covers 1 to 31 January), and its count targets are pro-rated to match
(monitor.kpis.performance.targets).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, selectinload

from monitor.contracts.models import Contract
from monitor.formatting import day_text
from monitor.kpis.models import FrameworkItem, Return, ReturnVersion
from monitor.kpis.performance.item_targets import last_day_of
from monitor.kpis.performance.targets import DaysInForce, days_in_force
from monitor.kpis.periods import Quarter, add_working_days, due_date, quarters_between
from monitor.kpis.vocabulary import ReturnState

MISSING_AFTER_WORKING_DAYS = 10

# States in which the provider has not yet handed the return in.
NOT_SUBMITTED = frozenset({ReturnState.NOT_STARTED, ReturnState.DRAFT})
AWAITING_REVIEW = frozenset({ReturnState.SUBMITTED, ReturnState.RESUBMITTED})

# Filter values beyond the states themselves.
LATE = "late"
MISSING = "missing"
NEEDS_RESUBMISSION = "needs resubmission"
STATE_FILTERS: tuple[tuple[str, str], ...] = (
    *((state.value, state.value.capitalize()) for state in ReturnState),
    (LATE, "Late (including missing)"),
    (MISSING, "Missing"),
    (NEEDS_RESUBMISSION, "Needs resubmission"),
)


@dataclass(frozen=True)
class CalendarRules:
    due_working_days: int = 15
    missing_after_working_days: int = MISSING_AFTER_WORKING_DAYS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CalendarRules:
        return cls(due_working_days=int(config.get("RETURN_DUE_WORKING_DAYS", cls.due_working_days)))

    def due(self, quarter: Quarter) -> date:
        return due_date(quarter, self.due_working_days)

    def missing_from(self, quarter: Quarter) -> date:
        """The first day a return still not submitted counts as missing."""
        return add_working_days(self.due(quarter), self.missing_after_working_days) + timedelta(days=1)


@dataclass(frozen=True)
class ExpectedReturn:
    """One contract's return for one quarter, as at a given day."""

    contract: Contract
    quarter: Quarter
    due_date: date
    state: ReturnState
    record: Return | None
    today: date
    missing_from: date

    @property
    def period(self) -> str:
        return str(self.quarter)

    @property
    def days_in_force(self) -> DaysInForce | None:
        """The days of the quarter the contract was in force."""
        return days_in_force(self.quarter, self.contract.start_date, last_live_day(self.contract))

    @property
    def covers(self) -> str:
        """'covers 1 to 31 January 2014' for a part quarter; '' for a whole one."""
        days = self.days_in_force
        return days.covers if days is not None and not days.whole else ""

    @property
    def covers_text(self) -> str:
        """The same, with why: 'Covers 1 to 31 January 2014 only: the contract
        ended on 31 January 2014'; '' for a whole quarter."""
        days = self.days_in_force
        if days is None or days.whole:
            return ""
        reasons = []
        if days.first > self.quarter.start:
            reasons.append(f"started on {day_text(days.first)}")
        if days.last < self.quarter.end:
            reasons.append(f"ended on {day_text(days.last)}")
        return f"C{days.covers[1:]} only: the contract {' and '.join(reasons)}"

    @property
    def quarter_ended(self) -> bool:
        return self.quarter.end < self.today

    @property
    def submitted(self) -> bool:
        return self.state not in NOT_SUBMITTED

    @property
    def late(self) -> bool:
        return not self.submitted and self.today > self.due_date

    @property
    def missing(self) -> bool:
        return not self.submitted and self.today >= self.missing_from

    @property
    def awaiting_review(self) -> bool:
        return self.state in AWAITING_REVIEW

    @property
    def needs_resubmission(self) -> bool:
        """A framework change left the submitted return without a figure it
        now asks for (monitor.kpis.returns.resubmission): the provider must
        submit it again, whatever its state says."""
        return self.record is not None and self.record.needs_resubmission

    @property
    def lateness(self) -> str:
        """'missing', 'late' or '' (never both: missing is the worse)."""
        return MISSING if self.missing else LATE if self.late else ""

    @property
    def timing(self) -> str:
        """Plain words about the due date, for tables and emails."""
        if not self.quarter_ended:
            return "Quarter in progress: not due yet"
        if self.missing:
            return "Missing: more than 10 working days late"
        if self.late:
            return "Late: the due date has passed"
        if not self.submitted:
            return "Due" if self.today == self.due_date else "Not due yet"
        return ""

    def matches(self, state_filter: str) -> bool:
        if not state_filter:
            return True
        if state_filter == LATE:
            return self.late
        if state_filter == MISSING:
            return self.missing
        if state_filter == NEEDS_RESUBMISSION:
            return self.needs_resubmission
        return self.state.value == state_filter


def last_live_day(contract: Contract) -> date:
    """The last day the service ran: its end date, or the day before a
    termination or decommissioning took effect, whichever is earlier."""
    return last_day_of(contract)


def after_the_end(contract: Contract, quarter: Quarter) -> bool:
    """Whether the quarter began after the contract's last day in force."""
    return quarter.start > last_live_day(contract)


def owed(contract: Contract, quarter: Quarter, record: Return) -> bool:
    """Whether a stored return is still the contract's to report: not when
    its quarter began after the contract's last day in force and it was never
    handed in (a draft left from before the end was brought forward). One
    handed in stays, so its history can be read."""
    return not (after_the_end(contract, quarter) and ReturnState(record.state) in NOT_SUBMITTED)


def _in_force(windows: Iterable[tuple[str, str | None]], period: str) -> bool:
    # Periods written 2013-14-Q3 sort in time order as text.
    return any(start <= period and (end is None or end >= period) for start, end in windows)


def reporting_quarters(
    contract: Contract, framework_windows: Iterable[tuple[str, str | None]], until: date
) -> list[Quarter]:
    """Quarters the contract was live in, had a framework for, and that began by `until`."""
    windows = list(framework_windows)
    if not windows or contract.start_date > until:
        return []
    last = min(last_live_day(contract), until)
    if last < contract.start_date:
        return []
    return [q for q in quarters_between(contract.start_date, last) if _in_force(windows, str(q))]


def _framework_windows(session: Session, contract_ids: list[int]) -> dict[int, list[tuple[str, str | None]]]:
    windows: dict[int, list[tuple[str, str | None]]] = {cid: [] for cid in contract_ids}
    if not contract_ids:
        return windows
    rows = session.execute(
        select(FrameworkItem.contract_id, FrameworkItem.effective_from, FrameworkItem.effective_to).where(
            FrameworkItem.contract_id.in_(contract_ids)
        )
    )
    for contract_id, start, end in rows:
        windows[contract_id].append((start, end))
    return windows


def _records(session: Session, contract_ids: list[int]) -> dict[tuple[int, str], Return]:
    if not contract_ids:
        return {}
    query = select(Return).where(Return.contract_id.in_(contract_ids))
    return {(r.contract_id, r.period): r for r in session.scalars(query)}


def expected_returns(
    session: Session,
    where: ColumnElement[bool],
    today: date,
    rules: CalendarRules,
    *,
    include_current: bool = False,
) -> list[ExpectedReturn]:
    """Every expected return of the contracts matching `where` (a visibility
    clause), newest quarter first. Quarters still running are left out unless
    `include_current`; a quarter with a stored return is always listed."""
    contracts = list(
        session.scalars(
            select(Contract)
            .where(where)
            .options(selectinload(Contract.amendments), selectinload(Contract.provider))
            .order_by(Contract.reference)
        )
    )
    ids = [c.id for c in contracts]
    windows = _framework_windows(session, ids)
    records = _records(session, ids)
    current = Quarter.containing(today)
    result: list[ExpectedReturn] = []
    for contract in contracts:
        quarters = {
            q
            for q in reporting_quarters(contract, windows[contract.id], today)
            if q.end < today or (include_current and q == current)
        }
        # A stored return is listed while it is owed (see `owed`).
        quarters |= {
            q
            for (cid, period), record in records.items()
            if cid == contract.id and (q := Quarter.parse(period)) and owed(contract, q, record)
        }
        for quarter in quarters:
            result.append(
                _expected(contract, quarter, records.get((contract.id, str(quarter))), today, rules)
            )
    result.sort(key=lambda e: (e.quarter, e.contract.reference), reverse=True)
    return result


def _expected(
    contract: Contract, quarter: Quarter, record: Return | None, today: date, rules: CalendarRules
) -> ExpectedReturn:
    state = ReturnState(record.state) if record is not None else ReturnState.NOT_STARTED
    return ExpectedReturn(
        contract=contract,
        quarter=quarter,
        # A stored return keeps the due date it was given, even if the setting changes later.
        due_date=record.due_date if record is not None else rules.due(quarter),
        state=state,
        record=record,
        today=today,
        missing_from=rules.missing_from(quarter),
    )


def expected_return(
    session: Session, contract: Contract, quarter: Quarter, today: date, rules: CalendarRules
) -> ExpectedReturn | None:
    """The return for one contract and quarter; None when the contract does not
    report for that quarter (not live, no framework, or not begun) and nothing
    was stored for it, or when what was stored is no longer owed (a draft for a
    quarter after the contract ended): every page, upload and API call that
    looks a return up here then refuses the quarter as one it does not report for."""
    record = session.scalar(
        select(Return)
        .where(Return.contract_id == contract.id, Return.period == str(quarter))
        # Workbooks can be megabytes each: load one only when it is downloaded.
        .options(selectinload(Return.versions).defer(ReturnVersion.content))
    )
    if record is None:
        windows = _framework_windows(session, [contract.id])[contract.id]
        if quarter not in reporting_quarters(contract, windows, today):
            return None
    elif not owed(contract, quarter, record):
        return None
    return _expected(contract, quarter, record, today, rules)


@dataclass(frozen=True)
class Counts:
    total: int
    outstanding: int  # due (quarter ended) and not yet submitted, late or not
    late: int  # including missing
    missing: int
    awaiting_review: int
    queried: int
    accepted: int
    needs_resubmission: int


def count(expected: Iterable[ExpectedReturn]) -> Counts:
    rows = [e for e in expected if e.quarter_ended or e.record is not None]
    states = Counter(e.state for e in rows)
    return Counts(
        total=len(rows),
        outstanding=sum(1 for e in rows if not e.submitted),
        late=sum(1 for e in rows if e.late),
        missing=sum(1 for e in rows if e.missing),
        awaiting_review=states[ReturnState.SUBMITTED] + states[ReturnState.RESUBMITTED],
        queried=states[ReturnState.QUERIED],
        accepted=states[ReturnState.ACCEPTED],
        needs_resubmission=sum(1 for e in rows if e.needs_resubmission),
    )
