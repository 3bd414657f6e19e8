"""Contract renewal dates and status, computed in calendar months.

Pure functions only (no Flask, database or clock access) so the rules can be tested
exhaustively and reused by views, exports and the ETL alike. Callers pass ``today``.

Date conventions
----------------
A term is inclusive of its first and last days, so a term of N months starting on S
ends the day before the N-month anniversary: ``S + N months - 1 day``. Extending or
counting back from an end date works on the day after the end (the first day outside
the term) and then steps back a day, which keeps month ends on month ends:
31 Mar 2014 + 6 months -> 30 Sep 2014, and 30 Sep 2014 + 6 months -> 31 Mar 2015.

Where the anniversary day does not exist (31 Jan + 1 month), it falls on the 1st of
the following month, so the term still runs to the last day of the shorter month
(31 Jan 2015 for one month ends 28 Feb 2015) rather than losing a day to clamping.
Counting back (notice and lead times) keeps ``relativedelta``'s clamping to the
shorter month's last day, because an earlier deadline is the safe side to err on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from dateutil.relativedelta import relativedelta

__all__ = [
    "DATE_KIND_NAMES",
    "DUE_SOON_DAYS",
    "UPCOMING_DAYS",
    "DateKind",
    "DueDate",
    "Ending",
    "KeyDate",
    "Leads",
    "OpenOption",
    "Renewal",
    "Status",
    "Terms",
    "ToDecide",
    "Urgency",
    "assess",
    "derive_status",
    "end_dates_between",
    "extend_end",
    "last_notice_date",
    "maximum_extent_date",
    "months_ahead",
    "open_options",
    "options_lapsed",
    "subtract_months",
    "term_end",
    "to_decide",
    "urgency",
]

_ONE_DAY = timedelta(days=1)

# "Within a month" / "within three months", as whole days so thresholds don't wobble
# with the length of the current month.
DUE_SOON_DAYS = 31
UPCOMING_DAYS = 92


class Status(StrEnum):
    PIPELINE = "pipeline"
    MOBILISING = "mobilising"
    LIVE = "live"
    IN_NOTICE = "in notice"
    EXTENDED = "extended"
    EXPIRED = "expired"
    TERMINATED = "terminated"
    DECOMMISSIONED = "decommissioned"


class Urgency(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due soon"
    UPCOMING = "upcoming"
    LATER = "later"
    PASSED = "passed"


# Statuses where the contract is running and nobody has yet decided what happens at
# the current end date, so a missed decision deadline is a real problem.
_AWAITING_DECISION = frozenset({Status.LIVE, Status.EXTENDED})
# Statuses where the contract is over: its dates are history, not actions.
_FINISHED = frozenset({Status.EXPIRED, Status.TERMINATED, Status.DECOMMISSIONED})


def _check_months(months: int, what: str = "Months") -> None:
    if months < 0:
        raise ValueError(f"{what} cannot be negative (got {months}).")


def _anniversary(start: date, months: int) -> date:
    """``start`` moved on ``months`` months; a missing day rolls to the next 1st.

    Clamping (31 Jan -> 28 Feb) would make the term end a day early (27 Feb).
    """
    shifted = start + relativedelta(months=months)
    if shifted.day != start.day:  # relativedelta clamped to a shorter month
        return shifted + _ONE_DAY
    return shifted


def term_end(start: date, months: int) -> date:
    """Last day of a term of ``months`` calendar months starting on ``start``."""
    if months < 1:
        # A zero-month term would end the day before it starts.
        raise ValueError(f"A contract term must be at least one month (got {months}).")
    return _anniversary(start, months) - _ONE_DAY


def extend_end(end: date, months: int) -> date:
    """New end date after extending a term that ends on ``end`` by ``months``."""
    _check_months(months)
    return _anniversary(end + _ONE_DAY, months) - _ONE_DAY


def subtract_months(end: date, months: int) -> date:
    """The date ``months`` calendar months before ``end``, by the end-date convention.

    The mirror of :func:`extend_end`: used for notice, decision and re-procurement
    lead times so that a month-end date counts back to a month-end date. Unlike
    :func:`extend_end` it clamps to the shorter month's last day, which can only make
    a deadline earlier, never later.
    """
    _check_months(months)
    return (end + _ONE_DAY) - relativedelta(months=months) - _ONE_DAY


def last_notice_date(end: date, notice_months: int) -> date:
    """Last day notice can be served for it to run out by ``end``."""
    _check_months(notice_months, "Notice period")
    return subtract_months(end, notice_months)


def maximum_extent_date(end: date, remaining_option_months: Sequence[int]) -> date:
    """End date if every remaining extension option is taken up (OCDS maxExtentDate)."""
    # Applied one option at a time, in order, because that is how they would be
    # exercised; short months mean this can differ from adding the months in one go.
    for months in remaining_option_months:
        _check_months(months, "Extension options")
    result = end
    for months in remaining_option_months:
        result = extend_end(result, months)
    return result


@dataclass(frozen=True)
class Ending:
    """Notice of termination or decommissioning that has been served."""

    kind: Literal["termination", "decommissioning"]
    effective_date: date

    def __post_init__(self) -> None:
        if self.kind not in ("termination", "decommissioning"):
            raise ValueError(f"An ending must be a termination or a decommissioning (got {self.kind!r}).")


@dataclass(frozen=True)
class Terms:
    """The contract facts renewal dates are derived from.

    ``end_date`` is the current end, after any extensions already exercised;
    ``original_end_date`` is the end of the initial term; ``remaining_option_months``
    lists the extension options still available, in the order they would be used.
    """

    start_date: date
    end_date: date
    original_end_date: date
    notice_months: int
    remaining_option_months: tuple[int, ...]
    award_date: date | None = None
    ending: Ending | None = None

    def __post_init__(self) -> None:
        # Accept any sequence from callers but store a tuple so Terms stays hashable.
        object.__setattr__(self, "remaining_option_months", tuple(self.remaining_option_months))
        _check_months(self.notice_months, "Notice period")
        for months in self.remaining_option_months:
            _check_months(months, "Extension options")
        if self.end_date < self.start_date:
            raise ValueError(
                f"The end date ({self.end_date:%d %B %Y}) is before the start date "
                f"({self.start_date:%d %B %Y})."
            )
        if self.original_end_date < self.start_date:
            raise ValueError(
                f"The original end date ({self.original_end_date:%d %B %Y}) is before the "
                f"start date ({self.start_date:%d %B %Y})."
            )


def options_lapsed(terms: Terms, today: date) -> bool:
    """Whether the remaining extension options have lapsed on ``today``.

    An option can only be taken up while the contract runs: once its end has
    passed (and so its maximum extent, which is never earlier), or once notice of
    an ending has been served, nothing is left to exercise or decline.
    """
    return terms.ending is not None or today > terms.end_date


@dataclass(frozen=True)
class Leads:
    """How far ahead of the notice deadline / end date work has to begin."""

    decision_lead_months: int = 2
    procurement_lead_months: int = 9

    def __post_init__(self) -> None:
        _check_months(self.decision_lead_months, "Decision lead time")
        _check_months(self.procurement_lead_months, "Re-procurement lead time")


@dataclass(frozen=True)
class KeyDate:
    name: str
    key: str
    on: date
    urgency: Urgency


@dataclass(frozen=True)
class Renewal:
    """Derived renewal position of a contract on a given day.

    ``end_date`` is the day the contract actually stops: the current end date, or an
    earlier termination/decommissioning date once notice has been served. Notice,
    decision and re-procurement dates are always worked back from the contractual end.
    """

    status: Status
    end_date: date
    maximum_extent_date: date
    last_notice_date: date
    decision_by: date
    reprocurement_start: date
    key_dates: tuple[KeyDate, ...]
    next_key_date: KeyDate | None
    decision_overdue: bool
    days_to_end: int


def derive_status(terms: Terms, today: date) -> Status:
    # A served ending overrides everything else: it is the most recent decision.
    if terms.ending is not None:
        if terms.ending.effective_date <= today:
            if terms.ending.kind == "termination":
                return Status.TERMINATED
            return Status.DECOMMISSIONED
        return Status.IN_NOTICE
    if today < terms.start_date:
        if terms.award_date is not None and terms.award_date <= today:
            return Status.MOBILISING
        return Status.PIPELINE
    if today > terms.end_date:
        return Status.EXPIRED
    if terms.end_date > terms.original_end_date:
        return Status.EXTENDED
    return Status.LIVE


def urgency(on: date, today: date, *, is_decision: bool = False) -> Urgency:
    """How pressing a date is. ``is_decision`` marks an outstanding decision deadline,
    which becomes overdue (rather than simply passed) once missed."""
    days = (on - today).days
    if days < 0:
        return Urgency.OVERDUE if is_decision else Urgency.PASSED
    if days <= DUE_SOON_DAYS:
        return Urgency.DUE_SOON
    if days <= UPCOMING_DAYS:
        return Urgency.UPCOMING
    return Urgency.LATER


# Listed in the order they normally fall, which also breaks ties on the same day.
_KEY_ORDER: tuple[tuple[str, str], ...] = (
    ("reprocurement_start", "Re-procurement starts"),
    ("decision_by", "Decision needed by"),
    ("last_notice", "Last date to serve notice"),
    ("end", "Contract ends"),
    ("maximum_extent", "Maximum extent"),
)
_DECISION_KEYS = frozenset({"decision_by", "last_notice"})


def assess(terms: Terms, today: date, leads: Leads = Leads()) -> Renewal:
    status = derive_status(terms, today)
    contractual_end = terms.end_date
    notice_by = last_notice_date(contractual_end, terms.notice_months)
    decision_by = subtract_months(notice_by, leads.decision_lead_months)
    reprocurement_start = subtract_months(contractual_end, leads.procurement_lead_months)
    remaining = () if options_lapsed(terms, today) else terms.remaining_option_months
    max_extent = maximum_extent_date(contractual_end, remaining)

    stops_on = contractual_end
    if terms.ending is not None:
        stops_on = min(contractual_end, terms.ending.effective_date)

    # Extending moves end_date (and so decision_by) forward, and serving notice changes
    # the status, so either action clears an overdue decision without extra bookkeeping.
    awaiting_decision = status in _AWAITING_DECISION
    decision_overdue = awaiting_decision and today > decision_by

    dates = {
        "reprocurement_start": reprocurement_start,
        "decision_by": decision_by,
        "last_notice": notice_by,
        "end": stops_on,
        "maximum_extent": max_extent,
    }
    finished = status in _FINISHED
    unsorted = [
        KeyDate(
            name=name,
            key=key,
            on=dates[key],
            urgency=(
                Urgency.PASSED
                if finished
                else urgency(dates[key], today, is_decision=awaiting_decision and key in _DECISION_KEYS)
            ),
        )
        for key, name in _KEY_ORDER
    ]
    order = {key: i for i, (key, _) in enumerate(_KEY_ORDER)}
    key_dates = tuple(sorted(unsorted, key=lambda k: (k.on, order[k.key])))

    next_key_date: KeyDate | None = None
    if decision_overdue:
        next_key_date = next(k for k in key_dates if k.key == "decision_by")
    elif not finished:
        next_key_date = next((k for k in key_dates if k.on >= today), None)

    return Renewal(
        status=status,
        end_date=stops_on,
        maximum_extent_date=max_extent,
        last_notice_date=notice_by,
        decision_by=decision_by,
        reprocurement_start=reprocurement_start,
        key_dates=key_dates,
        next_key_date=next_key_date,
        decision_overdue=decision_overdue,
        days_to_end=(stops_on - today).days,
    )


def months_ahead(today: date, months: int) -> date:
    """The last day of a look-ahead of ``months`` months from ``today`` ("within 6 months")."""
    _check_months(months)
    return today + relativedelta(months=months)


class DateKind(StrEnum):
    """The dates a commissioner acts on, as the register filters and Decisions due name them."""

    DECISION = "decision"
    NOTICE = "notice"
    OPTION = "option"
    END = "end"


DATE_KIND_NAMES: dict[DateKind, str] = {
    DateKind.DECISION: "Decision date",
    DateKind.NOTICE: "Notice date",
    DateKind.OPTION: "Extension option date",
    DateKind.END: "End date",
}


@dataclass(frozen=True)
class OpenOption:
    """An extension option still open, and the end date taking it up (after those before it) gives."""

    months: int
    would_end: date


@dataclass(frozen=True)
class DueDate:
    kind: DateKind
    on: date


@dataclass(frozen=True)
class ToDecide:
    """What is left to decide on a contract on a given day.

    ``awaiting`` is false once the contract is over or notice of an ending has been
    served: then there is nothing left to decide and no date below is an action.
    An option must be taken up while the contract runs (see :func:`options_lapsed`),
    so the date for the extension options is the current end date.
    """

    awaiting: bool
    decision_by: date
    decision_overdue: bool
    last_notice_date: date
    notice_passed: bool
    end_date: date
    options: tuple[OpenOption, ...]

    @property
    def overdue(self) -> bool:
        """A decision or notice date has passed and nothing has been decided."""
        return self.awaiting and (self.decision_overdue or self.notice_passed)

    @property
    def dates(self) -> tuple[DueDate, ...]:
        """Each date to act on, in the order they fall; the extension option date
        only while an option is open."""
        if not self.awaiting:
            return ()
        dates = [
            DueDate(DateKind.DECISION, self.decision_by),
            DueDate(DateKind.NOTICE, self.last_notice_date),
        ]
        if self.options:
            dates.append(DueDate(DateKind.OPTION, self.end_date))
        dates.append(DueDate(DateKind.END, self.end_date))
        return tuple(dates)

    def due_between(self, first: date, last: date) -> tuple[DueDate, ...]:
        return tuple(d for d in self.dates if first <= d.on <= last)


def open_options(end: date, remaining_option_months: Sequence[int]) -> tuple[OpenOption, ...]:
    """Each remaining option with the end date it gives, taken in order."""
    options = []
    for months in remaining_option_months:
        end = extend_end(end, months)
        options.append(OpenOption(months=months, would_end=end))
    return tuple(options)


# Statuses in which nothing has yet been decided about how the contract ends.
_UNDECIDED = frozenset({Status.PIPELINE, Status.MOBILISING, Status.LIVE, Status.EXTENDED})


def to_decide(terms: Terms, today: date, leads: Leads = Leads()) -> ToDecide:
    renewal = assess(terms, today, leads)
    awaiting = renewal.status in _UNDECIDED
    remaining = () if options_lapsed(terms, today) else terms.remaining_option_months
    return ToDecide(
        awaiting=awaiting,
        decision_by=renewal.decision_by,
        decision_overdue=renewal.decision_overdue,
        last_notice_date=renewal.last_notice_date,
        notice_passed=awaiting and today > renewal.last_notice_date,
        end_date=renewal.end_date,
        options=open_options(terms.end_date, remaining),
    )


def _latest_on_or_before(shift: Callable[[date], date], target: date, low: date, high: date) -> date:
    """The latest day in [low, high] whose ``shift`` is on or before ``target``
    (``shift`` never decreases), or the day before ``low`` if none is."""
    lo, hi = low.toordinal() - 1, high.toordinal()
    while lo < hi:
        middle = (lo + hi + 1) // 2
        if shift(date.fromordinal(middle)) <= target:
            lo = middle
        else:
            hi = middle - 1
    return date.fromordinal(lo)


def end_dates_between(
    months_back: Callable[[date], date], first: date, last: date, span_months: int
) -> tuple[date, date]:
    """The end dates whose date worked back by ``months_back`` falls in [first, last].

    ``months_back`` counts back at most ``span_months`` months and never decreases, so
    the answer is one run of end dates, which SQL can compare a column with.
    """
    low = first - timedelta(days=1)
    high = last + relativedelta(months=span_months) + timedelta(days=4)
    earliest = _latest_on_or_before(months_back, first - timedelta(days=1), low, high) + timedelta(days=1)
    latest = _latest_on_or_before(months_back, last, low, high)
    return earliest, latest
