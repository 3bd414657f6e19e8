"""The target a quarter's figure is judged against, for whole and part quarters.

One home for the rule: the RAG ratings on the performance and returns pages,
the board figures, the ETL's facts, the return template's target column and
the return's period check all take a quarter's target from `quarter_target`.

A contract that starts or ends inside a quarter ran for only some of its
days, so a target for something that adds up over time is pro-rated by the
days in force: DV-001 ended on 31 January 2014, so its January to March 2014
target of 60 referrals becomes 60 x 31 / 90 = 20.67, written and judged as
21. Pure, with no database, like `rag`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from monitor.kpis.periods import Quarter
from monitor.kpis.vocabulary import Rollup, TargetBasis, Unit

QUARTERS_IN_YEAR = 4
# A pro-rated target is rounded half up to the unit it is counted in, so
# every surface shows the figure the rating used: a whole number of
# referrals (20.67 referrals cannot be reached, 21 can), money to the penny.
TARGET_PLACES = {Unit.COUNT.value: Decimal(1), Unit.CURRENCY.value: Decimal("0.01")}

# Counts and money that add up over the quarter (roll-up "sum") grow with the
# days the service ran, so their targets are pro-rated. Percentages, scores
# and days (waiting times) are rates and averages: 85% feeling safer is as
# fair a target for 31 days as for 90. A snapshot or average (roll-up
# "latest" or "mean", such as a caseload on the last day) is a level, not a
# quantity that accumulates, so it is not pro-rated either.
PRO_RATED_UNITS = frozenset({Unit.COUNT.value, Unit.CURRENCY.value})


def last_day_in_force(end_date: date, ending_effective: date | None) -> date:
    """The last day a contract was in force: its end date, or the day before
    a termination or decommissioning took effect, whichever is earlier."""
    if ending_effective is None:
        return end_date
    return min(end_date, ending_effective - timedelta(days=1))


def _day_range(first: date, last: date) -> str:
    """'1 to 31 January 2014', '4 November to 31 December 2013'."""
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day} to {last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} to {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} to {last.day} {last:%B %Y}"


@dataclass(frozen=True)
class DaysInForce:
    """The days of one quarter a contract was in force: first to last, inclusive."""

    quarter: Quarter
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def quarter_days(self) -> int:
        return (self.quarter.end - self.quarter.start).days + 1

    @property
    def whole(self) -> bool:
        return self.days == self.quarter_days

    @property
    def covers(self) -> str:
        """What a return for the quarter covers: 'covers 1 to 31 January 2014'."""
        return f"covers {_day_range(self.first, self.last)}"

    @property
    def pro_rata(self) -> str:
        """'pro-rated: 31 of 90 days'."""
        return f"pro-rated: {self.days} of {self.quarter_days} days"


def days_in_force(quarter: Quarter, start: date, last_day: date) -> DaysInForce | None:
    """The days of `quarter` a contract running from `start` to `last_day`
    (inclusive) was in force; None when it was not in force at all."""
    first, last = max(quarter.start, start), min(quarter.end, last_day)
    if last < first:
        return None
    return DaysInForce(quarter, first, last)


def covered_days(quarters: list[Quarter], start: date, last_day: date) -> int:
    """Days in force over several quarters (value for money: the days a year's
    money bought that the reported quarters cover)."""
    spans = (days_in_force(q, start, last_day) for q in quarters)
    return sum(span.days for span in spans if span is not None)


def days_in_force_between(first: date, last: date, start: date, last_day: date) -> int:
    """Days in force from `first` to `last` inclusive (a financial year, say)."""
    return max(0, (min(last, last_day) - max(first, start)).days + 1)


def is_pro_rated(unit: str, rollup: str) -> bool:
    """Whether a KPI's target shrinks with the days in force (see PRO_RATED_UNITS)."""
    return rollup == Rollup.SUM.value and unit in PRO_RATED_UNITS


@dataclass(frozen=True)
class QuarterTarget:
    """A quarter's target: `value` is what the figure is judged against; `full`
    is the whole quarter's (a yearly sum target shared over four quarters)."""

    value: Decimal | None
    full: Decimal | None
    days: DaysInForce | None = None

    @property
    def pro_rated(self) -> bool:
        return self.value is not None and self.days is not None and self.value != self.full

    @property
    def note(self) -> str:
        """'pro-rated: 31 of 90 days' for a pro-rated target, else ''."""
        return self.days.pro_rata if self.pro_rated and self.days is not None else ""


def whole_quarter_target(target: Decimal | None, basis: str, rollup: str) -> Decimal | None:
    """The target for a quarter the contract ran throughout. A yearly target
    for a KPI that adds up over the year is shared over four quarters; a
    yearly target for an average or a snapshot applies to every quarter."""
    if target is None:
        return None
    if basis == TargetBasis.YEAR.value and rollup == Rollup.SUM.value:
        return target / QUARTERS_IN_YEAR
    return target


def quarter_target(
    target: Decimal | None,
    basis: str,
    unit: str,
    rollup: str,
    quarter: Quarter,
    start: date,
    last_day: date,
) -> QuarterTarget:
    """The target a framework item sets for one quarter of a contract in
    force from `start` to `last_day` (see `last_day_in_force`): the whole
    quarter's target, pro-rated by the days in force for a count or money
    that adds up, rounded half up to a whole count or to the penny."""
    full = whole_quarter_target(target, basis, rollup)
    days = days_in_force(quarter, start, last_day)
    if full is None or days is None or days.whole or not is_pro_rated(unit, rollup):
        return QuarterTarget(full, full, days)
    scaled = (full * days.days / days.quarter_days).quantize(TARGET_PLACES[unit], rounding=ROUND_HALF_UP)
    return QuarterTarget(scaled, full, days)
