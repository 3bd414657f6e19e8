"""The marts' label columns: each fact written for people as the app writes
it, by monitor.formatting, so a dashboard reads like the pages ("Q1 2013/14",
"31 March 2014", "In notice", "IDVA/IDSVA", £1,234) and never shows Superset's
"N/A" for an empty cell. The sortable keys (period_key, period_sort, dates,
numbers) stay beside their labels: charts sort by the key and show the label.

Markers are the disclosure module's: `[c]` hidden, `[x]` not available,
`[z]` not applicable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from monitor import formatting
from monitor.disclosure.suppression import CONFIDENTIAL, NOT_APPLICABLE, NOT_AVAILABLE, is_small
from monitor.kpis.performance.rag import Rag

NOT_SHOWN = "Not shown"
SMALL_SAMPLE = "Small sample"
# A RAG rating as the performance pages tag it ("Red: off target"): colour is
# never the only signal. Red, Amber, Green is the order everywhere.
RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN)
RAG_COLOURS = {Rag.RED: "#d4351c", Rag.AMBER: "#f47738", Rag.GREEN: "#00703c"}


def _each(values: pd.Series, write: Callable[[Any], str], missing: str) -> pd.Series:
    return pd.Series(
        [missing if _absent(v) else write(v) for v in values.tolist()], index=values.index, dtype=object
    )


def _absent(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def quarters(keys: pd.Series) -> pd.Series:
    """Q1 2013/14 from 2013-14-Q1."""
    return _each(keys, formatting.quarter_text, NOT_AVAILABLE)


def days(values: pd.Series, missing: str = NOT_AVAILABLE) -> pd.Series:
    """31 March 2014."""
    return _each(values, lambda v: formatting.day_text(_day(v)), missing)


def _day(value: Any) -> date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value if not hasattr(value, "date") else value.date()


def words(values: pd.Series, empty: str = NOT_APPLICABLE) -> pd.Series:
    """A register value in sentence case ("In notice", "IDVA/IDSVA"); `empty`
    where there is none (a provision gap has no service type)."""
    return _each(values, lambda v: formatting.sentence_case(str(v)) if str(v) else empty, empty)


def money(values: pd.Series, missing: str = NOT_AVAILABLE) -> pd.Series:
    """£1,234 (and pence only where there are some), as the pages show money."""
    return _each(values, formatting.money, missing)


def figures(values: pd.Series, units: pd.Series | str, missing: pd.Series | str) -> pd.Series:
    """Figures by unit (monitor.formatting.format_figure); where there is
    none, the marker `missing` says why."""
    unit_of = units if isinstance(units, pd.Series) else pd.Series(units, index=values.index)
    why = missing if isinstance(missing, pd.Series) else pd.Series(missing, index=values.index)
    written = [
        str(reason) if _absent(value) else formatting.format_figure(float(value), str(unit))
        for value, unit, reason in zip(values.tolist(), unit_of.tolist(), why.tolist(), strict=True)
    ]
    return pd.Series(written, index=values.index, dtype=object)


def rag_text(rag: pd.Series, actual_display: pd.Series) -> pd.Series:
    """The rating as the performance pages tag it, or the figure's marker:
    `[c]` hidden, `[x]` no figure, `[z]` a figure with nothing to rate it against."""
    texts = {r.value: r.text for r in RAG_ORDER}
    written = []
    for value, shown in zip(rag.tolist(), actual_display.tolist(), strict=True):
        if value == CONFIDENTIAL or shown == CONFIDENTIAL:
            written.append(CONFIDENTIAL)
        elif value in texts:
            written.append(texts[value])
        elif shown == NOT_AVAILABLE:
            written.append(NOT_AVAILABLE)
        else:
            written.append(NOT_APPLICABLE)
    return pd.Series(written, index=rag.index, dtype=object)


def small_samples(flags: pd.Series) -> pd.Series:
    """ "Small sample" where the flag is set, as the outcome pages tag it; else blank."""
    return pd.Series(np.where(flags.astype(bool), SMALL_SAMPLE, ""), index=flags.index, dtype=object)


def not_shown(total: float, shown_parts: float, threshold: int, suppressed: bool) -> tuple[float, str] | None:
    """The part of a total its shown parts leave out, as a stacked chart's
    "Not shown" segment: (value, text), or None when nothing is left out or
    the total itself is not shown. On suppressed (board) rows it is hidden
    as [c] when it alone is a small count."""
    if _absent(total):
        return None
    rest = float(total) - float(shown_parts)
    if rest <= 0:
        return None
    if suppressed and bool(is_small(np.array([rest]), threshold)[0]):
        return float("nan"), CONFIDENTIAL
    return rest, formatting.format_figure(rest, "count")
