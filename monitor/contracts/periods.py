"""UK financial years, written 2013/14 (1 April 2013 to 31 March 2014)."""

from __future__ import annotations

import re
from datetime import date

FINANCIAL_YEAR_PATTERN = re.compile(r"^(\d{4})/(\d{2})$")
FINANCIAL_YEAR_HINT = (
    "Enter the financial year as the starting year and the next year's last two digits, like 2013/14"
)


def parse_financial_year(text: str) -> str | None:
    """The canonical '2013/14' form, or None when it is not a financial year."""
    match = FINANCIAL_YEAR_PATTERN.match(text.strip())
    if not match:
        return None
    start, end = int(match.group(1)), int(match.group(2))
    if not 1990 <= start <= 2100 or (start + 1) % 100 != end:
        return None
    return f"{start}/{end:02d}"


def financial_year_of(day: date) -> str:
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def financial_year_bounds(financial_year: str) -> tuple[date, date]:
    start = int(financial_year[:4])
    return date(start, 4, 1), date(start + 1, 3, 31)
