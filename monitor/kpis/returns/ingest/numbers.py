"""Reading a figure the way people type it: 1,234; ' 12 '; 85%; £1,250.50."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_SPACES = str.maketrans("", "", " \u00a0\u202f\t")
# Figures other than counts are kept to the penny, the hundredth of a day or of a percent.
CENT = Decimal("0.01")
NOT_FIGURES = {"n/a", "na", "-", "–", "—", "nil", "none", "tbc", "tba", "?", "x", "unknown", "nk", "n/k"}


class Problem:
    BLANK = "blank"
    NOT_A_NUMBER = "not a number"
    PLACEHOLDER = "placeholder"  # N/A, -, TBC: something written instead of a figure
    DATE = "date"


@dataclass(frozen=True)
class Reading:
    number: Decimal | None = None
    percent: bool = False  # typed with a % sign, or a cell formatted as a percentage
    problem: str | None = None
    shown: str = ""  # the cell as the provider sees it, for messages


def read_number(value: Any, number_format: str = "General") -> Reading:
    kind = type(value)
    if (kind is int or kind is float) and "%" not in (number_format or "") and math.isfinite(value):
        number = _tidy(Decimal(repr(value)) if kind is float else Decimal(value))
        return Reading(number, shown=str(number))
    if value is None or (isinstance(value, str) and not value.strip()):
        return Reading(problem=Problem.BLANK)
    if isinstance(value, bool):
        return Reading(problem=Problem.NOT_A_NUMBER, shown=str(value).upper())
    if isinstance(value, datetime | date | time | timedelta):
        return Reading(problem=Problem.DATE, shown=str(value))
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return Reading(problem=Problem.NOT_A_NUMBER, shown=str(value))
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if "%" in (number_format or ""):
            # Excel stores 85% typed into a cell as 0.85 and formats it as a percentage.
            return Reading(_tidy(number * 100), percent=True, shown=f"{_tidy(number * 100)}%")
        return Reading(_tidy(number), shown=str(_tidy(number)))
    text = str(value)
    shown = text.strip()
    cleaned = text.translate(_SPACES)
    if cleaned.lower() in NOT_FIGURES:
        return Reading(problem=Problem.PLACEHOLDER, shown=shown)
    percent = cleaned.endswith("%")
    cleaned = cleaned.removesuffix("%").removeprefix("£")
    if _GROUPED.match(cleaned):
        cleaned = cleaned.replace(",", "")
    if not _PLAIN.match(cleaned):
        return Reading(problem=Problem.NOT_A_NUMBER, shown=shown)
    try:
        number = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only valid decimals
        return Reading(problem=Problem.NOT_A_NUMBER, shown=shown)
    return Reading(_tidy(number), percent=percent, shown=shown)


def _tidy(number: Decimal) -> Decimal:
    """12.0 -> 12, 12.50 -> 12.5: figures compare and print as people expect."""
    if number == number.to_integral_value():
        try:
            return number.quantize(Decimal(1))
        except InvalidOperation:  # too many digits to write out; the range check refuses it
            return number
    return number.normalize()


def is_whole(number: Decimal) -> bool:
    return number == number.to_integral_value()
