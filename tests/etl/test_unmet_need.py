"""Unmet need by cohort (etl/transform/unmet_need.py) on small literal frames:
rows shaped like mart_board_performance, as a board sees them after
suppression, and the services' cohorts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.schema import mart_unmet_need
from etl.transform.labels import NOT_SHOWN
from etl.transform.unmet_need import (
    CHILDREN_RECEIVED,
    CHILDREN_SHARE,
    CHILDREN_WANTED,
    NOT_TAKEN,
    WAITING,
    unmet_need,
)
from monitor.disclosure.suppression import CONFIDENTIAL, NOT_APPLICABLE, NOT_AVAILABLE

THRESHOLD = 4
BOARD = {"viewer": "partnership:1", "viewer_kind": "board", "viewer_name": "Board"}
OWN = {"viewer": "organisation:1", "viewer_kind": "commissioner", "viewer_name": "Council"}
Q3 = {"period_key": "2013-14-Q3", "period_label": "Q3 2013/14", "financial_year": "2013/14", "period_sort": 3}
Q4 = {"period_key": "2013-14-Q4", "period_label": "Q4 2013/14", "financial_year": "2013/14", "period_sort": 4}
# Service 1 is for adults and for children; 2 for adults; 3 for children.
COHORTS = pd.DataFrame(
    {
        "contract_id": [1, 1, 2, 3],
        "cohort": ["adults", "children and young people", "adults", "children and young people"],
    }
)


def _row(
    contract: int | None,
    kpi: str,
    actual: float | None,
    shown: str | None = None,
    breakdown: str = "",
    viewer: dict[str, str] = BOARD,
    period: dict[str, object] = Q4,
) -> dict[str, object]:
    """A service's figure as the mart holds it: `shown` is its display
    ([c] when suppression hid it; then the actual is NULL)."""
    display = shown or (NOT_AVAILABLE if actual is None else f"{actual:,.0f}")
    return {
        **viewer,
        **period,
        "scope": "service" if contract is not None else "all services",
        "contract_id": contract,
        "kpi_code": kpi,
        "unit": "count",
        "breakdown": breakdown,
        "actual": np.nan if actual is None or display == CONFIDENTIAL else float(actual),
        "actual_display": display,
    }


def _figures(rows: list[dict[str, object]], cohorts: pd.DataFrame = COHORTS, **options: bool) -> pd.DataFrame:
    return unmet_need(pd.DataFrame(rows), cohorts, THRESHOLD, **options)


def _cell(
    frame: pd.DataFrame, cohort: str, measure: str, part: str = "", viewer: str = BOARD["viewer"]
) -> tuple:
    found = frame[
        frame["viewer"].eq(viewer)
        & frame["cohort"].eq(cohort)
        & frame["measure"].eq(measure)
        & frame["part"].eq(part)
    ]
    assert len(found) == 1, (cohort, measure, part, found)
    row = found.iloc[0]
    value = None if pd.isna(row["value"]) else float(row["value"])
    return value, row["value_display"], int(row["services_reporting"])


def test_cohort_figures_add_up_their_services_and_a_service_for_two_cohorts_counts_in_each() -> None:
    frame = _figures(
        [
            _row(1, "WAITING-END", 10),
            _row(2, "WAITING-END", 7),
            _row(3, "WAITING-END", 0),
            # Not an unmet need KPI, and an all-services row: neither is added.
            _row(1, "REF-RECEIVED", 40),
            _row(None, "WAITING-END", 17),
        ]
    )
    assert _cell(frame, "adults", WAITING) == (17.0, "17", 2)
    assert _cell(frame, "children and young people", WAITING) == (10.0, "10", 2)
    assert set(frame["measure"]) == {WAITING}
    assert set(frame["cohort_label"]) == {"Adults", "Children and young people"}
    assert frame["latest_quarter"].all()


def test_one_hidden_service_figure_hides_the_cohort_figure() -> None:
    frame = _figures([_row(1, "WAITING-END", 3, shown=CONFIDENTIAL), _row(2, "WAITING-END", 20)])
    # 3 + 20 = 23 is not small, but 23 less the 20 shown would give the 3 away.
    assert _cell(frame, "adults", WAITING) == (None, CONFIDENTIAL, 2)
    assert _cell(frame, "children and young people", WAITING) == (None, CONFIDENTIAL, 1)


def test_a_small_sum_is_hidden_on_a_boards_rows_but_not_a_commissioners() -> None:
    rows = [_row(2, "WAITING-END", 3, viewer=v) for v in (BOARD, OWN)]
    frame = _figures(rows)
    assert _cell(frame, "adults", WAITING) == (None, CONFIDENTIAL, 1)
    assert _cell(frame, "adults", WAITING, viewer=OWN["viewer"]) == (3.0, "3", 1)
    # The board pack applies the board's rule to a commissioner's rows it has suppressed.
    as_board = _figures([_row(2, "WAITING-END", 3, viewer=OWN)], as_board=True)
    assert _cell(as_board, "adults", WAITING, viewer=OWN["viewer"]) == (None, CONFIDENTIAL, 1)


def test_services_not_reporting_are_left_out_and_none_reporting_is_not_available() -> None:
    frame = _figures([_row(1, "WAITING-END", 9), _row(2, "WAITING-END", None), _row(3, "WAITING-END", None)])
    assert _cell(frame, "adults", WAITING) == (9.0, "9", 1)
    frame = _figures([_row(2, "WAITING-END", None)])
    assert _cell(frame, "adults", WAITING) == (None, NOT_AVAILABLE, 0)


def test_reasons_sum_by_cohort_with_a_not_shown_part_for_what_is_hidden() -> None:
    frame = _figures(
        [
            _row(1, "REF-NOT-TAKEN", 20),
            _row(1, "REF-NOT-TAKEN", 12, breakdown="No space"),
            _row(1, "REF-NOT-TAKEN", 3, shown=CONFIDENTIAL, breakdown="Declined"),
            _row(1, "REF-NOT-TAKEN", 5, breakdown="Other"),
            _row(2, "REF-NOT-TAKEN", 9),
            _row(2, "REF-NOT-TAKEN", 9, breakdown="No space"),
        ]
    )
    assert _cell(frame, "adults", NOT_TAKEN) == (29.0, "29", 2)
    assert _cell(frame, "adults", NOT_TAKEN, "No space") == (21.0, "21", 2)
    assert _cell(frame, "adults", NOT_TAKEN, "Declined") == (None, CONFIDENTIAL, 1)
    # 29 less the 21 and 5 shown: the reader can work it out, and it is small.
    assert _cell(frame, "adults", NOT_TAKEN, NOT_SHOWN) == (None, CONFIDENTIAL, 2)
    assert _cell(frame, "children and young people", NOT_TAKEN, "No space") == (12.0, "12", 1)
    parts = frame[frame["cohort"].eq("adults") & frame["measure"].eq(NOT_TAKEN)]
    ordered = parts.sort_values("part_sort")["part_label"].tolist()
    # The total, the library's reasons in its order, then what is not shown.
    assert ordered == ["Total", "No space", "Declined", "Other", NOT_SHOWN]


def test_the_share_of_children_supported_and_when_it_is_hidden() -> None:
    rows = [
        _row(1, "CHILD-SUPPORT-WANTED", 30),
        _row(1, "CHILD-SUPPORT-RECEIVED", 10),
        _row(3, "CHILD-SUPPORT-WANTED", 0),
        _row(3, "CHILD-SUPPORT-RECEIVED", 0),
    ]
    frame = _figures(rows)
    assert _cell(frame, "children and young people", CHILDREN_WANTED) == (30.0, "30", 2)
    assert _cell(frame, "children and young people", CHILDREN_RECEIVED) == (10.0, "10", 2)
    assert _cell(frame, "children and young people", CHILDREN_SHARE) == (33.3, "33.3%", 2)

    # A count hidden in either part hides the share.
    hidden = _figures([rows[0], _row(1, "CHILD-SUPPORT-RECEIVED", 2, shown=CONFIDENTIAL)])
    assert _cell(hidden, "adults", CHILDREN_SHARE) == (None, CONFIDENTIAL, 1)
    # 28 of 30: the 2 who did not get support would show through the share.
    close = _figures([rows[0], _row(1, "CHILD-SUPPORT-RECEIVED", 28)])
    assert _cell(close, "adults", CHILDREN_SHARE)[1] == CONFIDENTIAL
    # Nobody asked: nothing to divide by.
    none_asked = _figures(rows[2:])
    assert _cell(none_asked, "children and young people", CHILDREN_SHARE) == (None, NOT_APPLICABLE, 1)
    # Received not reported by a service that reported wanted: unlike things.
    unlike = _figures([*rows[:2], _row(3, "CHILD-SUPPORT-WANTED", 12)])
    assert _cell(unlike, "children and young people", CHILDREN_SHARE)[1] == NOT_AVAILABLE
    # A commissioner's own 28 of 30 is exact.
    own = _figures(
        [_row(1, "CHILD-SUPPORT-WANTED", 30, viewer=OWN), _row(1, "CHILD-SUPPORT-RECEIVED", 28, viewer=OWN)]
    )
    assert _cell(own, "adults", CHILDREN_SHARE, viewer=OWN["viewer"]) == (93.3, "93.3%", 1)


def test_latest_quarter_is_each_viewers_own() -> None:
    frame = _figures(
        [
            _row(1, "WAITING-END", 8, period=Q3),
            _row(1, "WAITING-END", 9),
            _row(2, "WAITING-END", 6, viewer=OWN, period=Q3),
        ]
    )
    latest = frame[frame["latest_quarter"]]
    assert set(zip(latest["viewer"], latest["period_key"], strict=True)) == {
        (BOARD["viewer"], "2013-14-Q4"),
        (OWN["viewer"], "2013-14-Q3"),
    }


def test_no_figures_gives_the_marts_columns() -> None:
    frame = _figures([_row(1, "REF-RECEIVED", 40)])
    assert frame.empty
    assert set(frame.columns) == {c.name for c in mart_unmet_need.columns}
