"""The marts' label columns (etl/transform/labels.py) on tiny frames: the
app's words, markers for what is missing, and the "Not shown" part of a
stacked total."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from etl.transform import labels
from etl.transform.marts import board_parts
from monitor.formatting import day_text, quarter_text


def test_labels_are_the_apps_words_with_markers_for_what_is_missing() -> None:
    assert (
        labels.quarters(pd.Series(["2013-14-Q1"])).tolist() == [quarter_text("2013-14-Q1")] == ["Q1 2013/14"]
    )
    assert labels.days(pd.Series([pd.Timestamp("2014-03-31"), date(2014, 3, 31), None])).tolist() == [
        day_text(date(2014, 3, 31)),
        "31 March 2014",
        "[x]",
    ]
    assert labels.words(pd.Series(["in notice", "IDVA/IDSVA", ""])).tolist() == [
        "In notice",
        "IDVA/IDSVA",
        "[z]",
    ]
    assert labels.money(pd.Series([1234.0, 1234.5])).tolist() == ["£1,234", "£1,234.50"]
    assert labels.figures(pd.Series([87.46, np.nan]), "percentage", "[c]").tolist() == ["87.5%", "[c]"]
    assert labels.rag_text(
        pd.Series(["red", "[c]", "not rated", "not rated"]), pd.Series(["3", "[c]", "[x]", "12"])
    ).tolist() == ["Red: off target", "[c]", "[x]", "[z]"]
    assert labels.small_samples(pd.Series([True, False])).tolist() == ["Small sample", ""]


def _all_services(viewer_kind: str, total: float, parts: dict[str, float]) -> pd.DataFrame:
    rows = [("", total), *parts.items()]
    return pd.DataFrame(
        {
            "viewer": "partnership:1",
            "viewer_kind": viewer_kind,
            "viewer_name": "A board",
            "scope": "all services",
            "unit": "count",
            "kpi_code": "REF-RECEIVED",
            "kpi_name": "Referrals received",
            "period_key": "2013-14-Q1",
            "period_label": "Q1 2013/14",
            "period_sort": 20131,
            "breakdown": [b for b, _ in rows],
            "actual": [v for _, v in rows],
            "actual_display": ["[c]" if np.isnan(v) else f"{v:.0f}" for _, v in rows],
        }
    )


def test_a_stack_reaches_its_total_with_a_not_shown_part() -> None:
    parts = board_parts(
        _all_services("board", 31, {"Police": 15, "Self": 8, "GP": np.nan, "Other": np.nan}), 4
    )
    assert parts["part"].tolist() == ["GP", "Other", "Police", "Self", "Not shown"]
    assert parts["actual"].sum() == parts["total"].iloc[0] == 31
    assert parts["actual_display"].iloc[-1] == "8"


def test_a_small_not_shown_part_on_a_board_is_hidden_but_not_for_a_commissioner() -> None:
    board = board_parts(_all_services("board", 26, {"Police": 23, "GP": np.nan}), 4)
    assert board["actual_display"].iloc[-1] == "[c]" and np.isnan(board["actual"].iloc[-1])
    own = board_parts(_all_services("commissioner", 26, {"Police": 23, "GP": np.nan}), 4)
    assert own["actual"].iloc[-1] == 3


def test_nothing_is_added_when_the_parts_reach_the_total_or_the_total_is_hidden() -> None:
    assert (
        "Not shown"
        not in board_parts(_all_services("board", 20, {"Police": 12, "Self": 8}), 4)["part"].tolist()
    )
    assert "Not shown" not in board_parts(_all_services("board", np.nan, {"Police": 12}), 4)["part"].tolist()
