"""How the platform writes things for people: one home for every format.

Pages (as Jinja filters, see `monitor.filters`), exports, emails, the board
pack and the warehouse's display columns (and so the dashboards) all call
these, so the same fact reads the same on every surface:

- days as "31 March 2014", times as "6 May 2014 at 2:05pm" in UK time;
- quarters as "Q1 2013/14";
- money as £1,234 (pence only where asked for);
- KPI figures by unit: counts whole, percentages, days and scores to one
  decimal place, money to the pound;
- a change in a percentage in percentage points, never "up 61%";
- counts with the right plural ("1 contract", "2 contracts");
- labels in sentence case that keep the register's spelling
  ("IDVA/IDSVA", never "Idva/idsva").

Returns pages write a provider's figures exactly as entered
(`monitor.kpis.returns.template.rows.format_figure`); `format_figure` here
is for figures that are read and compared.

Pure: no Flask, no database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from monitor.kpis.periods import Quarter
from monitor.kpis.vocabulary import Unit

LONDON = ZoneInfo("Europe/London")

WHOLE = Decimal(1)
ONE_PLACE = Decimal("0.1")
# (places, how the rounded number is written) per unit.
TEXT_FORMATS = {
    Unit.COUNT.value: (WHOLE, "{:,}"),
    Unit.PERCENTAGE.value: (ONE_PLACE, "{:,}%"),
    Unit.CURRENCY.value: (WHOLE, "£{:,}"),
    Unit.DAYS.value: (ONE_PLACE, "{:,} days"),
    Unit.SCORE.value: (ONE_PLACE, "{:,}"),
}
OTHER_TEXT_FORMAT = (ONE_PLACE, "{:,}")
# The same places as Excel number formats, for the board pack and exports.
EXCEL_FORMATS = {
    Unit.COUNT.value: "#,##0",
    Unit.PERCENTAGE.value: '0.0"%"',  # the warehouse holds percentages as 0 to 100
    Unit.CURRENCY.value: "£#,##0",
    Unit.DAYS.value: '0.0" days"',
    Unit.SCORE.value: "0.0",
}
# Superset's d3 formats for the same units, for the dashboards' charts.
D3_FORMATS = {
    Unit.COUNT.value: ",d",
    Unit.PERCENTAGE.value: ",.1f",
    Unit.CURRENCY.value: "£,.0f",
    Unit.DAYS.value: ",.1f",
    Unit.SCORE.value: ",.1f",
}


def round_half_up(number: Decimal, places: Decimal) -> Decimal:
    """`number` to the nearest `places`, halves away from zero, as Excel
    shows it: 4.565 to 0.01 is 4.57 (Decimal's default, half to even, would
    give 4.56). The one rounding rule for figures read and written."""
    return number.quantize(places, ROUND_HALF_UP)


def _decimal(value: Decimal | float | int) -> Decimal:
    # Through the float the warehouse holds, so a page and a dashboard start
    # from the same number.
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def format_figure(value: Decimal | float | None, unit: str) -> str:
    """32, 1,250, 87.5%, 90.0%, £1,251, 4.5 days; "" when there is no figure."""
    if value is None:
        return ""
    places, written = TEXT_FORMATS.get(unit, OTHER_TEXT_FORMAT)
    number = round_half_up(Decimal(repr(float(value))), places)
    return written.format(number)


def percent(value: Decimal | float | int | None) -> str:
    """87.5% from 87.5 (percentages are held as 0 to 100); "" for none."""
    return format_figure(value, Unit.PERCENTAGE.value)


def change_text(before: Decimal | float | None, after: Decimal | float | None, unit: str) -> str:
    """How a figure moved between two quarters: "up 6.1 percentage points",
    "down 3", "up £250", "no change"; "" when either side is missing. A
    percentage's change is in points: 20% to 30% is up 10 points, not 50%."""
    if before is None or after is None:
        return ""
    difference = _decimal(after) - _decimal(before)
    if unit == Unit.PERCENTAGE.value:
        points = round_half_up(abs(difference), ONE_PLACE)
        if points == 0:
            return "no change"
        word = "point" if points == 1 else "points"
        return f"{'up' if difference > 0 else 'down'} {points:,} percentage {word}"
    written = format_figure(abs(difference), unit)
    if written in ("0", "0.0", "£0", "0.0 days"):
        return "no change"
    return f"{'up' if difference > 0 else 'down'} {written}"


def money(value: Decimal | float | int | None, pence: bool = False) -> str:
    """£1,234 (or £1,234.50 when there are pence or `pence` asks); -£20 when negative."""
    if value is None:
        return ""
    amount = _decimal(value)
    whole = amount == amount.to_integral()
    text = f"£{abs(amount):,.2f}" if pence or not whole else f"£{abs(amount):,.0f}"
    return f"-{text}" if amount < 0 else text


def day_text(day: date) -> str:
    """6 May 2014: how a day is written for people, on pages, in emails and in messages."""
    return f"{day.day} {day:%B %Y}"


def london_time(moment: datetime) -> datetime:
    """A stored time (naive UTC, or aware) as the clock on the wall in London."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(LONDON).replace(tzinfo=None)


def time_text(moment: datetime) -> str:
    """6 May 2014 at 2:05pm, in UK time (GMT or BST, whichever was in force)."""
    local = london_time(moment)
    hour = local.hour % 12 or 12
    return f"{day_text(local.date())} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def date_text(value: date | datetime | None) -> str:
    """A day or a stored time, written for people; "" for none."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return time_text(value)
    return day_text(value)


def quarter_text(period: Quarter | str | None) -> str:
    """Q1 2013/14, from a Quarter or its stored form 2013-14-Q1; other text as given."""
    if period is None:
        return ""
    quarter = period if isinstance(period, Quarter) else Quarter.parse(period)
    return quarter.short_label if quarter else str(period)


def sentence_case(text: str | None) -> str:
    """The first letter a capital, the rest as written: "IDVA/IDSVA",
    "Children's advocacy". (Jinja's `capitalize` lowers the rest; the app
    replaces it with this.)"""
    if not text:
        return ""
    text = str(text)
    return text[:1].upper() + text[1:]


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """The noun for `count`: contract or contracts."""
    return singular if count == 1 else (plural_form or f"{singular}s")


def count_text(count: int, singular: str, plural_form: str | None = None) -> str:
    """1 contract, 2 contracts, 1,250 referrals."""
    return f"{count:,} {plural(count, singular, plural_form)}"


def mid_sentence(text: str | None) -> str:
    """A label inside a sentence: its first letter lower case unless it
    starts an abbreviation ("Referrals received" -> "referrals received",
    "MARAC referrals" and "IDVA/IDSVA" as written)."""
    if not text:
        return ""
    text = str(text)
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def list_text(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'; "" for none."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def difference_text(target: Decimal | float | None, figure: Decimal | float | None, unit: str) -> str:
    """How far a figure is from its target, in the figure's own unit:
    "15.0 percentage points below", "3 above", "£250 below", "on target"; ""
    when either is missing. A percentage's distance is in points, never
    a percentage of the target."""
    change = change_text(target, figure, unit)
    if not change:
        return ""
    if change == "no change":
        return "on target"
    direction, _, amount = change.partition(" ")
    return f"{amount} {'above' if direction == 'up' else 'below'}"
