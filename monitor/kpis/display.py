"""How a KPI figure is written wherever people read it: the performance
pages, the warehouse's display columns (and so the dashboards) and the board
pack's Excel number formats. One rule, so the same figure reads the same on
every surface: counts whole, percentages, days and scores to one decimal
place, money to the pound.

Returns pages write a provider's figures exactly as entered
(`monitor.kpis.returns.template.rows.format_figure`); this is for figures
that are read and compared.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from monitor.kpis.vocabulary import Unit

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
# The same places as Excel number formats, for the board pack.
EXCEL_FORMATS = {
    Unit.COUNT.value: "#,##0",
    Unit.PERCENTAGE.value: '0.0"%"',  # the warehouse holds percentages as 0 to 100
    Unit.CURRENCY.value: "£#,##0",
    Unit.DAYS.value: '0.0" days"',
    Unit.SCORE.value: "0.0",
}


def round_half_up(number: Decimal, places: Decimal) -> Decimal:
    """`number` to the nearest `places`, halves away from zero, as Excel
    shows it: 4.565 to 0.01 is 4.57 (Decimal's default, half to even, would
    give 4.56). The one rounding rule for figures read and written."""
    return number.quantize(places, ROUND_HALF_UP)


def format_figure(value: Decimal | float | None, unit: str) -> str:
    """32, 1,250, 87.5%, 90.0%, £1,251, 4.5 days; "" when there is no figure."""
    if value is None:
        return ""
    places, written = TEXT_FORMATS.get(unit, OTHER_TEXT_FORMAT)
    # Through the float the warehouse holds, so a page and a dashboard start
    # from the same number; halves round up, as Excel's formats do.
    number = round_half_up(Decimal(repr(float(value))), places)
    return written.format(number)
