"""The comparison mart's transform on small literal frames: who is in it, the
group figures as monitor.benchmarking.statistics computes them, and what
disclosure control hides."""

from __future__ import annotations

import statistics
from datetime import date

import pandas as pd
import pytest

from etl.transform.comparison import HIDDEN_GROUP_REASON, area_figures, comparison_mart
from monitor.benchmarking.statistics import (
    ConfidenceLevel,
    byar_interval,
    compare_count,
    compare_proportion,
    pooled_proportion,
    quartiles,
    wilson_interval,
)
from monitor.disclosure.suppression import CONFIDENTIAL

THRESHOLD = 4
AS_AT = date(2014, 5, 6)
KPIS = pd.DataFrame(
    [
        (1, "REF-RECEIVED", "Referrals received", "count", "higher is better"),
        (2, "FEEL-SAFER", "Feeling safer at closure", "percentage", "higher is better"),
        (3, "CASELOAD", "Active caseload", "count", "higher is better"),
    ],
    columns=["kpi_id", "code", "name", "unit", "direction"],
)
# Area 1 to 5: 1, 2 and 3 in the North West, 4 and 5 in London; 6 never opted in.
AREAS = pd.DataFrame({"area_id": [1, 2, 3, 4, 5], "area_name": ["Ayton", "Beeby", "Corby", "Deeby", "Eston"]})
GROUPS = pd.DataFrame(
    [("All areas", "all areas", 0, area) for area in (1, 2, 3, 4, 5)]
    + [("North West areas", "region", 2, area) for area in (1, 2, 3)]
    + [("London areas", "region", 7, area) for area in (4, 5)]
    + [("Coastal towns", "similar areas", 11, area) for area in (1, 4, 6)],
    columns=["group_name", "group_kind", "group_sort", "area_id"],
)
VIEWERS = pd.DataFrame(
    [(f"partnership:{a}", "board", f"Board {a}", a, True) for a in (1, 2, 3, 4, 5, 6)]
    + [("organisation:10", "commissioner", "Ayton Council", 1, False)],
    columns=["viewer", "viewer_kind", "viewer_name", "area_id", "sees_others"],
)


def _results(rows: list[tuple[int, int, str, float | None, float | None, float | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["contract_id", "kpi_id", "period_key", "actual", "numerator", "denominator"]
    )
    return frame.assign(breakdown="")


# Contract n is area n's service; contract 16 is area 6's. Two quarters of 2013/14.
RESULTS = _results(
    [
        # Referrals: area 1 20 + 10 = 30, area 2 40, area 3 3 (small), area 4 55, area 5 12, area 6 900
        (1, 1, "2013-14-Q1", 20, None, None),
        (1, 1, "2013-14-Q2", 10, None, None),
        (2, 1, "2013-14-Q1", 40, None, None),
        (3, 1, "2013-14-Q1", 3, None, None),
        (4, 1, "2013-14-Q1", 55, None, None),
        (5, 1, "2013-14-Q1", 12, None, None),
        (16, 1, "2013-14-Q1", 900, None, None),
        # An earlier year: only area 1 reports it.
        (1, 1, "2012-13-Q4", 25, None, None),
        # Feeling safer: area 1 30 of 40 over two quarters, 2 50 of 60, 3 18 of 20 (2 not safer: small),
        # 4 10 of 40, 5 20 of 30, 6 1 of 100.
        (1, 2, "2013-14-Q1", 75.0, 15, 20),
        (1, 2, "2013-14-Q2", 75.0, 15, 20),
        (2, 2, "2013-14-Q1", 83.3, 50, 60),
        (3, 2, "2013-14-Q1", 90.0, 18, 20),
        (4, 2, "2013-14-Q1", 25.0, 10, 40),
        (5, 2, "2013-14-Q1", 66.7, 20, 30),
        (16, 2, "2013-14-Q1", 1.0, 1, 100),
        # A KPI that is not compared (a "latest" figure).
        (1, 3, "2013-14-Q1", 70, None, None),
    ]
)
SERVICES = pd.DataFrame({"contract_id": [1, 2, 3, 4, 5, 16], "area_id": [1, 2, 3, 4, 5, 6]})
NO_HIDDEN_QUARTERS = pd.DataFrame(columns=["area_id", "kpi_code", "period_key"])


def _mart(hidden_quarters: pd.DataFrame = NO_HIDDEN_QUARTERS) -> pd.DataFrame:
    figures = area_figures(RESULTS, SERVICES, KPIS, hidden_quarters, THRESHOLD)
    return comparison_mart(figures, AREAS, GROUPS, VIEWERS, THRESHOLD, AS_AT)


def _row(
    mart: pd.DataFrame, viewer: str, group: str, kpi: str, area: int, year: str = "2013/14"
) -> pd.Series:
    rows = mart[
        mart["viewer"].eq(viewer)
        & mart["group_name"].eq(group)
        & mart["kpi_code"].eq(kpi)
        & mart["area_id"].eq(area)
        & mart["financial_year"].eq(year)
    ]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_an_area_not_opted_in_is_in_no_row_and_no_group_figure() -> None:
    mart = _mart()
    assert 6 not in set(mart["area_id"].dropna().astype(int))
    assert 6 not in set(mart["viewer_area_id"])
    assert "partnership:6" not in set(mart["viewer"])
    # The group's median leaves area 6's 900 referrals out: 3, 12, 30, 40, 55.
    row = _row(mart, "partnership:1", "All areas", "REF-RECEIVED", 1)
    assert row["median"] == 30
    # The similar-areas group it is named in holds only the two opted-in
    # areas, and its pooled proportion leaves out area 6's 1 of 100.
    assert set(mart[mart["group_name"].eq("Coastal towns")]["area_id"].dropna().astype(int)) == {1, 4}
    safer = _row(mart, "partnership:1", "Coastal towns", "FEEL-SAFER", 1)
    assert safer["comparator"] == pytest.approx(40 / 80 * 100)
    # Another area's count is not repeated for the viewer: its group figures are on the viewer's own row.
    assert (
        mart[mart["viewer"].eq("partnership:1") & mart["kpi_code"].eq("REF-RECEIVED")]["area_id"].eq(1).all()
    )
    # A KPI outside the compared list is not there.
    assert "CASELOAD" not in set(mart["kpi_code"])


def test_figures_and_labels_are_the_statistics_modules() -> None:
    mart = _mart()
    row = _row(mart, "partnership:5", "London areas", "FEEL-SAFER", 5)
    pairs = [(10.0, 40), (20.0, 30)]
    expected = compare_proportion(20, 30, pairs, "higher is better")
    assert row["value"] == pytest.approx(20 / 30 * 100)
    pooled = pooled_proportion(pairs)
    assert pooled is not None
    assert row["comparator"] == pytest.approx(pooled * 100)
    interval = wilson_interval(20, 30, ConfidenceLevel.NINETY_FIVE)
    outer = wilson_interval(20, 30, ConfidenceLevel.NINETY_NINE_POINT_EIGHT)
    assert interval is not None and outer is not None
    assert (row["lower_95"], row["upper_95"]) == pytest.approx((interval.lower * 100, interval.upper * 100))
    assert (row["lower_99_8"], row["upper_99_8"]) == pytest.approx((outer.lower * 100, outer.upper * 100))
    assert row["label"].lower() == expected.label.value
    assert row["note"] == expected.method
    assert row["trials"] == 30
    # Deeby's 10 of 40 (25.0%, 95% interval 14.2% to 40.0%) is below London's 42.9%.
    assert _row(mart, "partnership:5", "London areas", "FEEL-SAFER", 4)["label"] == "Significantly worse"

    counts = [30.0, 40.0, 3.0, 55.0, 12.0]
    count_row = _row(mart, "partnership:2", "All areas", "REF-RECEIVED", 2)
    expected_count = compare_count(40, counts, "higher is better")
    assert count_row["median"] == statistics.median(counts)
    assert count_row["label"].lower() == expected_count.label.value
    assert count_row["note"] == expected_count.method
    byar = byar_interval(40, ConfidenceLevel.NINETY_FIVE)
    assert (count_row["lower_95"], count_row["upper_95"]) == pytest.approx((byar.lower, byar.upper))
    spread = quartiles(counts)
    assert spread is not None
    assert count_row["upper_quartile"] == pytest.approx(spread.upper_quartile)


def test_small_counts_are_hidden_for_every_viewer_their_own_area_included() -> None:
    mart = _mart()
    row = _row(mart, "partnership:3", "All areas", "REF-RECEIVED", 3)
    assert row["value_display"] == CONFIDENTIAL
    assert pd.isna(row["value"]) and pd.isna(row["lower_95"]) and row["label"] == CONFIDENTIAL
    # 18 of 20 feeling safer leaves 2 who did not: hidden, with its
    # denominator, for another area's viewer as for its own.
    for viewer in ("partnership:1", "partnership:3"):
        safer = _row(mart, viewer, "All areas", "FEEL-SAFER", 3)
        assert safer["value_display"] == CONFIDENTIAL and pd.isna(safer["trials"])
        assert pd.isna(safer["value"]) and pd.isna(safer["upper_99_8"]) and safer["label"] == CONFIDENTIAL
    counts = mart[mart["measure"].eq("count") & mart["value"].notna()]["value"]
    assert not counts.between(1, THRESHOLD).any()


def test_a_group_figure_that_would_give_a_hidden_count_away_is_hidden() -> None:
    mart = _mart()
    # North West: 3 (hidden), 30, 40. The lower quartile, halfway between 3 and
    # 30, would give the 3 away; the median, 30, and upper quartile, 35, do not.
    row = _row(mart, "partnership:1", "North West areas", "REF-RECEIVED", 1)
    assert row["lower_quartile_display"] == CONFIDENTIAL and pd.isna(row["lower_quartile"])
    assert row["median"] == 30 and row["upper_quartile"] == 35
    assert row["label"] != CONFIDENTIAL
    # The North West's pool, 98 of 120, less what its shown areas make up
    # (the funnel shows their denominators) is Corby's hidden 18 of 20, whose
    # rest (2) is small: the pool is hidden, and no area labelled against it.
    nw = _row(mart, "partnership:1", "North West areas", "FEEL-SAFER", 1)
    assert nw["comparator_display"] == CONFIDENTIAL and pd.isna(nw["comparator"])
    assert nw["label"] == "Not compared" and nw["note"] == HIDDEN_GROUP_REASON
    assert not mart[
        mart["group_name"].eq("North West areas")
        & mart["kpi_code"].eq("FEEL-SAFER")
        & mart["row_kind"].eq("limit")
    ].shape[0]
    london = _row(mart, "partnership:4", "London areas", "FEEL-SAFER", 5)
    assert london["comparator"] == pytest.approx(30 / 70 * 100)


def test_a_year_is_hidden_when_a_quarter_it_adds_up_is_hidden_on_the_board_view() -> None:
    hidden = pd.DataFrame({"area_id": [1], "kpi_code": ["REF-RECEIVED"], "period_key": ["2013-14-Q2"]})
    row = _row(_mart(hidden), "partnership:1", "All areas", "REF-RECEIVED", 1)
    assert row["value_display"] == CONFIDENTIAL


def test_region_and_similar_groups_and_viewers() -> None:
    mart = _mart()
    # Each viewer sees only the groups its area is in.
    assert set(mart[mart["viewer"].eq("partnership:4")]["group_name"]) == {
        "All areas",
        "London areas",
        "Coastal towns",
    }
    assert set(mart[mart["viewer"].eq("partnership:2")]["group_name"]) == {"All areas", "North West areas"}
    # The commissioner sees its area's own rows as its board does, and no other area's.
    viewer_columns = ["viewer", "viewer_kind", "viewer_name"]
    board = mart[mart["viewer"].eq("partnership:1") & mart["is_viewer_area"]].drop(columns=viewer_columns)
    council = mart[mart["viewer"].eq("organisation:10")].drop(columns=viewer_columns)
    assert council["is_viewer_area"].all() and len(council)
    pd.testing.assert_frame_equal(board.reset_index(drop=True), council.reset_index(drop=True))
    # A group of two with a figure each is compared; the similar group's pool is 40 of 80.
    coastal = _row(mart, "partnership:1", "Coastal towns", "FEEL-SAFER", 1)
    assert coastal["comparator"] == pytest.approx(50.0) and coastal["group_members"] == 2


def test_other_areas_and_limits_are_for_the_latest_year_own_area_every_year() -> None:
    mart = _mart()
    earlier = mart[mart["financial_year"].eq("2012/13")]
    assert set(earlier["area_id"].astype(int)) == {1}
    assert set(earlier["viewer_area_id"]) == {1}
    limits = mart[
        mart["row_kind"].eq("limit")
        & mart["viewer"].eq("partnership:4")
        & mart["group_name"].eq("London areas")
    ]
    assert len(limits) > 10
    assert limits["trials"].max() == 40  # the largest shown denominator
    assert (limits["limit_99_8_lower"] <= limits["limit_95_lower"]).all()
    assert (limits["limit_95_upper"] <= limits["limit_99_8_upper"]).all()


def test_every_row_says_which_day_it_was_worked_out_for() -> None:
    mart = _mart()
    assert set(mart["as_at"]) == {AS_AT}
    assert set(mart["as_at_label"]) == {"6 May 2014"}
