"""Reporting quarters of the UK financial year, written 2013-14-Q3.

Q1 is April to June, Q2 July to September, Q3 October to December and Q4
January to March, so Q4 2013/14 is January to March 2014: people confuse it
with the new year, so every label states the dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays

_PATTERN = re.compile(r"^(\d{4})-(\d{2})-Q([1-4])$")
PERIOD_HINT = "Write the quarter as the financial year and quarter, like 2013-14-Q3"


@dataclass(frozen=True, order=True)
class Quarter:
    fy_start: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter | None:
        match = _PATTERN.match(text.strip())
        if not match:
            return None
        start, end, number = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if (start + 1) % 100 != end or not 1990 <= start <= 2100:
            return None
        return cls(start, number)

    @classmethod
    def containing(cls, day: date) -> Quarter:
        fy_start = day.year if day.month >= 4 else day.year - 1
        number = ((day.month - 4) % 12) // 3 + 1
        return cls(fy_start, number)

    def __str__(self) -> str:
        return f"{self.fy_start}-{(self.fy_start + 1) % 100:02d}-Q{self.number}"

    @property
    def financial_year(self) -> str:
        return f"{self.fy_start}/{(self.fy_start + 1) % 100:02d}"

    @property
    def start(self) -> date:
        month = 4 + (self.number - 1) * 3
        return date(self.fy_start + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    @property
    def short_label(self) -> str:
        """Q3 2013/14: how people name a quarter, in pages, emails and the warehouse."""
        return f"Q{self.number} {self.financial_year}"

    @property
    def label(self) -> str:
        """Q3 2013/14 (October to December 2013)."""
        first, last = self.start, self.end
        return f"{self.short_label} ({first:%B} to {last:%B %Y})"

    def next(self) -> Quarter:
        return Quarter(self.fy_start + 1, 1) if self.number == 4 else Quarter(self.fy_start, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.fy_start - 1, 4) if self.number == 1 else Quarter(self.fy_start, self.number - 1)

    def quarters_of_year(self) -> list[Quarter]:
        return [Quarter(self.fy_start, n) for n in range(1, 5)]


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    # England and Wales share bank holidays; the package carries them offline.
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(day: date, count: int) -> date:
    """The date `count` working days after `day` (or before, if negative)."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    current = day
    while remaining:
        current += timedelta(days=step)
        if is_working_day(current):
            remaining -= 1
    return current


def due_date(quarter: Quarter, working_days: int) -> date:
    return add_working_days(quarter.end, working_days)


def quarters_between(first: date, last: date) -> list[Quarter]:
    """Every quarter that overlaps first..last."""
    quarter, result = Quarter.containing(first), []
    while quarter.start <= last:
        result.append(quarter)
        quarter = quarter.next()
    return result


def working_days_between(first: date, last: date) -> int:
    """How many working days take you from `first` to `last`: the working days
    after `first` up to and including `last`, negative when `last` is earlier.
    So a return due on Friday 23 August 2013 and received on Tuesday 27 August
    is 1 working day late (Monday 26 August was a bank holiday), and for a
    working day `last`, add_working_days(first, working_days_between(first, last)) == last."""
    if last < first:
        return -working_days_between(last, first)
    return sum(
        1 for offset in range(1, (last - first).days + 1) if is_working_day(first + timedelta(days=offset))
    )
