"""Template filters and globals: dates and money written the way people read them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask

from monitor.clock import london_time, today
from monitor.forms import error_list
from monitor.kpis.periods import day_text


def govuk_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value.day} {value:%B %Y} at {value:%H:%M}"
    return day_text(value)


def money(value: Decimal | int | float | None, pence: bool = False) -> str:
    if value is None:
        return ""
    amount = Decimal(value)
    text = f"£{abs(amount):,.2f}" if pence or amount != amount.to_integral() else f"£{abs(amount):,.0f}"
    return f"-{text}" if amount < 0 else text


def tuple_caps(value: str) -> tuple[str, str]:
    """A choice as (value, label), the label starting with a capital."""
    return value, value[:1].upper() + value[1:]


def install(app: Flask) -> None:
    app.add_template_filter(tuple_caps)
    app.add_template_filter(govuk_date)
    app.add_template_filter(money)
    app.add_template_global(error_list)
    app.add_template_global(london_time)

    @app.context_processor
    def dates() -> dict[str, Any]:
        return {"today": today()}
