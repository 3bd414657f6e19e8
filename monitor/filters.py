"""Template filters and globals: every format comes from monitor.formatting,
so a page writes a date, a quarter, money or a count as exports and the
dashboards do."""

from __future__ import annotations

from typing import Any

from flask import Flask

from monitor import formatting
from monitor.clock import today
from monitor.forms import error_list


def tuple_caps(value: str) -> tuple[str, str]:
    """A choice as (value, label), the label in sentence case."""
    return value, formatting.sentence_case(value)


def install(app: Flask) -> None:
    app.add_template_filter(tuple_caps)
    # Dates and stored times (shown in UK time): "6 May 2014", "6 May 2014 at 2:05pm".
    app.add_template_filter(formatting.date_text, "govuk_date")
    app.add_template_filter(formatting.money)
    app.add_template_filter(formatting.percent)
    app.add_template_filter(formatting.quarter_text)
    app.add_template_filter(formatting.format_figure)
    app.add_template_filter(formatting.count_text)
    app.add_template_filter(formatting.plural)
    # Jinja's own capitalize lowers the rest ("Idva/idsva"); ours keeps the register's spelling.
    app.add_template_filter(formatting.sentence_case, "capitalize")
    app.add_template_filter(formatting.sentence_case)
    app.add_template_global(formatting.change_text)
    app.add_template_global(error_list)

    @app.context_processor
    def dates() -> dict[str, Any]:
        return {"today": today()}
