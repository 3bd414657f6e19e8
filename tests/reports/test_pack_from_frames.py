"""The board pack built from hand-made frames shaped like the marts: what it
holds, sheet by sheet, and that suppression reaches every cell and chart."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

from monitor.reports.audience import Audience
from monitor.reports.pack_data import PackError, build_pack_data
from monitor.reports.writer import filename, write_board_pack
from tests.reports import builders
from tests.reports.xlsx import assert_no_small_counts, cells_of, charts, open_pack, tables

THRESHOLD = 4
COUNCIL = Audience("commissioner", 1, builders.VIEWER_NAME)
PRODUCED = date(2014, 5, 7)
SHEETS = [
    "Summary",
    "Performance and outputs",
    "Quality",
    "Outcomes",
    "Finance and value for money",
    "Unmet need",
    "How we compare",
    "Renewals due",
    "Notes",
    "Chart data",
]


def _pack(period: str = "2013-14-Q4", **changes: pd.DataFrame) -> bytes:
    marts = builders.marts() | changes
    commentary = {(1, "FEEL-SAFER"): builders.COMMENTARY}
    data = build_pack_data(marts, COUNCIL, period, THRESHOLD, commentary)
    return write_board_pack(data, PRODUCED)


@pytest.fixture(scope="module")
def pack() -> bytes:
    return _pack()


def test_sheets_in_order_with_real_tables(pack: bytes) -> None:
    workbook = open_pack(pack)
    assert workbook.sheetnames == SHEETS
    found = tables(workbook)
    assert {
        "RatingCounts",
        "Exceptions",
        "OutputsKPIs",
        "QualityKPIs",
        "OutcomesKPIs",
        "OutcomeMeasures",
    } <= set(found)
    assert {"FinanceKPIs", "ValueForMoney", "FundingByFunder", "RenewalsDue", "Notes"} <= set(found)
    # Every data sheet keeps its first table's header in view.
    for name in SHEETS[1:8]:
        assert workbook[name].freeze_panes is not None, name
    outputs = found["OutputsKPIs"]
    assert workbook["Performance and outputs"].freeze_panes == f"A{outputs.first_row + 1}"
    assert outputs.header[:7] == [
        "Service",
        "Service name",
        "Provider",
        "KPI",
        "Measured as",
        "Better when",
        "Target in Q4 2013/14",
    ]
    assert outputs.header[7:11] == ["Q1 2013/14", "Q2 2013/14", "Q3 2013/14", "Q4 2013/14"]


def test_summary_counts_ratings_and_lists_exceptions_with_commentary(pack: bytes) -> None:
    workbook = open_pack(pack)
    summary = workbook["Summary"]
    assert summary["A1"].value == "Board pack: Borough Council"
    assert summary["A2"].value == "Q4 2013/14 (January to March 2014)"
    facts = {summary.cell(r, 1).value: summary.cell(r, 2).value for r in range(4, 10)}
    assert facts["Figures as at"] == "6 May 2014"
    assert facts["Produced on"] == "7 May 2014"
    assert facts["Services covered"] == "2 services, 2 still running"
    # Q4 by hand (see builders.FIGURES): green REF 45/40, CASES 33/30, COST 800/900 (lower is
    # better), REF 11/10, CASES 10/8; red CONTACT 80/90 and FEEL-SAFER 70/85. The children's
    # service's 60% feeling safer is 5 of 9 (4 not): hidden, and its rating with it.
    counts = {r["Rating"]: r["KPIs"] for r in tables(workbook)["RatingCounts"].records()}
    assert counts == {"Green": 5, "Amber": 0, "Red": 2, "Not rated": 0, "Rating hidden [c]": 1}
    exceptions = tables(workbook)["Exceptions"].records()
    assert [(e["Rating"], e["Service"], e["KPI"]) for e in exceptions] == [
        ("Red", "BC-IDVA-01", "Contacted within two working days"),
        ("Red", "BC-IDVA-01", "Feeling safer at closure"),
    ]
    by_kpi = {e["KPI"]: e for e in exceptions}
    safer = by_kpi["Feeling safer at closure"]
    assert safer["Provider's commentary"] == builders.COMMENTARY
    # A percentage's distance from its target is in points, not a percentage of the target (-17.6%).
    assert (safer["Figure"], safer["Target"], safer["Difference from target"]) == (
        70,
        85,
        "15.0 percentage points below",
    )
    assert (
        by_kpi["Contacted within two working days"]["Difference from target"]
        == "10.0 percentage points below"
    )
    assert safer["Procurement Act rating"] == "Requires improvement"
    lines = [c.value for row in summary.iter_rows(max_col=1) for c in row if isinstance(c.value, str)]
    assert "Of 8 KPIs reported in Q4 2013/14, 2 were red and 0 amber." in lines
    assert (
        "Next renewal decision: BC-CYP-02 Children's recovery service, by 30 April 2014 "
        "(decision overdue). See Renewals due." in lines
    )
    contact = by_kpi["Contacted within two working days"]
    assert contact["Provider's commentary"] == "No commentary on this KPI in the accepted return."


def test_small_counts_are_hidden_everywhere(pack: bytes) -> None:
    workbook = open_pack(pack)
    outputs = {(r["Service"], r["KPI"]): r for r in tables(workbook)["OutputsKPIs"].records()}
    # 3 referrals in Q2 is hidden; the quarter's total across services would give it
    # away, so the other service's Q2 referrals are hidden too.
    assert outputs[("BC-CYP-02", "Referrals received")]["Q2 2013/14"] == "[c]"
    assert outputs[("BC-IDVA-01", "Referrals received")]["Q2 2013/14"] == "[c]"
    assert outputs[("BC-CYP-02", "Referrals received")]["Q1 2013/14"] == 12
    # 2 paired cases in Q2, and the share and mean worked out from them.
    measures = {r["Quarter"]: r for r in tables(workbook)["OutcomeMeasures"].records()}
    assert (measures["Q2 2013/14"]["Paired cases"], measures["Q2 2013/14"]["Average change in score"]) == (
        "[c]",
        "[c]",
    )
    assert measures["Q2 2013/14"]["Share improved"] == "[c]"
    assert measures["Q1 2013/14"]["Paired cases"] == 12
    # 3 positive outcomes in the year, and the cost per positive outcome with them.
    vfm = {r["Service"]: r for r in tables(workbook)["ValueForMoney"].records()}
    assert vfm["BC-CYP-02"]["Positive outcomes"] == "[c]"
    assert vfm["BC-CYP-02"]["Cost per positive outcome"] == "[c]"
    assert vfm["BC-IDVA-01"]["Positive outcomes"] == 20
    assert_no_small_counts(pack, THRESHOLD)


def test_charts_plot_actual_against_target_with_gaps_for_hidden_figures(pack: bytes) -> None:
    workbook = open_pack(pack)
    found = charts(pack)
    series = [s for chart in found.values() for s in chart]
    actuals = {s.values_ref: s for s in series if s.name == "Actual"}
    targets = [s for s in series if s.name == "Target"]
    # One chart per KPI of each service, each with a target series, except the children's
    # service's feeling safer: every quarter of it is hidden or missing, so there is nothing to plot.
    assert len(actuals) == 7 and len(targets) == 7
    assert not any(
        "Feeling safer at closure: BC-CYP-02" in str(c.value)
        for row in workbook["Chart data"].iter_rows()
        for c in row
    )
    blocks = {t.name: t for t in tables(workbook).values() if t.sheet == "Chart data"}
    chart_sheet = workbook["Chart data"]
    titles = {chart_sheet.cell(t.first_row - 1, 1).value: t for t in blocks.values()}
    referrals = titles["Referrals received: BC-CYP-02"]
    # The 3 in Q2 is hidden; so is Q3's 9, or the year's total (in value for money) would
    # give Q2 away. Each is a gap in the chart, not a zero.
    assert referrals.column("Actual") == [12, None, None, 11]
    assert referrals.column("Target") == [10, 10, 10, 10]
    reference = next(ref for ref in actuals if cells_of(workbook, ref) == [12, None, None, 11])
    assert actuals[reference].values_cache == [12.0, None, None, 11.0]
    # Spend by funder: a stacked column chart over the years and a pie for the pack's year.
    funder_series = {s.name for chart in found.values() for s in chart if "Chart data" in s.values_ref} - {
        "Actual",
        "Target",
    }
    assert {
        "Borough Council",
        "Police and Crime Commissioner",
        "Clinical Commissioning Group",
    } <= funder_series
    pie = next(s for chart in found.values() for s in chart if s.name == "Who paid in 2013/14")
    assert sorted(v for v in pie.values_cache if v is not None) == [40_000.0, 125_000.0]
    assert len(found) == 7 + 2 + 1  # KPI charts, funder charts, the ratings chart


def test_renewals_most_pressing_first_with_dates(pack: bytes) -> None:
    renewals = tables(open_pack(pack))["RenewalsDue"].records()
    assert [r["Service"] for r in renewals] == ["BC-CYP-02", "BC-IDVA-01"]
    first = renewals[0]
    assert first["What to do"] == "Decision overdue"  # decide by 30 April 2014, as at 6 May
    assert first["Decision needed by"].date() == date(2014, 4, 30)
    assert first["Extension options left"] == 0
    assert renewals[1]["What to do"] == "Decide within 3 months"  # 31 July 2014
    assert renewals[1]["Latest end with every extension"].date() == date(2016, 3, 31)
    sheet = open_pack(pack)["Renewals due"]
    # Dates in words and money in pounds.
    assert sheet.cell(6, 6).number_format == "d mmmm yyyy"
    assert sheet.cell(6, 12).number_format == "£#,##0"


def test_notes_explain_markers_threshold_and_sources(pack: bytes) -> None:
    notes = {r["Topic"]: r["Explanation"] for r in tables(open_pack(pack))["Notes"].records()}
    assert "[c] confidential" in notes and "1 to 4" in notes["[c] confidential"]
    assert "[x] not available" in notes and "[z] not applicable" in notes
    assert notes["Disclosure threshold"].startswith("4")
    assert "Green: at or better than the target" in notes["Ratings (RAG)"]
    assert "accepted" in notes["Data sources"] and "warehouse" in notes["Data sources"]
    assert notes["Figures as at"].startswith("6 May 2014")


def test_number_formats_money_percent_and_counts(pack: bytes) -> None:
    workbook = open_pack(pack)
    found = tables(workbook)
    sheet = workbook["Quality"]
    quality = found["QualityKPIs"]
    q4 = quality.header.index("Q4 2013/14") + quality.first_col
    assert sheet.cell(quality.first_row + 1, q4).number_format == '0.0"%"'
    finance = workbook["Finance and value for money"]
    vfm = found["ValueForMoney"]
    assert finance.cell(vfm.first_row + 1, vfm.header.index("Spend") + 1).number_format == "£#,##0"
    funding = found["FundingByFunder"].records()
    assert [(f["Financial year"], f["Funder"], f["Funding"]) for f in funding] == [
        ("2013/14", "Borough Council", 125_000),
        ("2013/14", "Police and Crime Commissioner", 40_000),
        ("2014/15", "Borough Council", 82_000),
        ("2014/15", "Clinical Commissioning Group", 46_000),
    ]
    assert finance.cell(funding_row := found["FundingByFunder"].first_row + 1, 3).number_format == "£#,##0"
    assert funding_row > vfm.first_row


def test_a_year_in_the_past_starts_where_the_figures_start() -> None:
    workbook = open_pack(_pack("2013-14-Q2"))
    outputs = tables(workbook)["OutputsKPIs"]
    assert [h for h in outputs.header if h.startswith("Q")] == ["Q1 2013/14", "Q2 2013/14"]
    assert workbook["Summary"]["A2"].value == "Q2 2013/14 (July to September 2013)"


def test_bad_and_unknown_periods_are_refused_plainly() -> None:
    with pytest.raises(
        PackError,
        match=re.escape(
            "is not a quarter. Write the quarter as the financial year and quarter, like 2013-14-Q4"
        ),
    ):
        _pack("Q4 2013")
    with pytest.raises(
        PackError,
        match=r"no figures for Q1 2016/17 \(April to June 2016\). Choose a quarter from Q1 2013/14 to Q4 2013/14",
    ):
        _pack("2016-17-Q1")


def test_a_partnership_row_with_an_unsuppressed_small_count_is_refused() -> None:
    """The ETL suppresses boards' rows; if it ever failed to, no pack is made."""
    marts = builders.marts("partnership:3")
    audience = Audience("partnership", 3, "Borough Board")
    with pytest.raises(PackError, match=r"holds 3 counts from 1 to 4 that should have been hidden"):
        build_pack_data(marts, audience, "2013-14-Q4", THRESHOLD)


def test_an_audience_without_services_gets_a_pack_that_says_so() -> None:
    empty = {name: frame.iloc[0:0] for name, frame in builders.marts().items() if name.startswith("mart_")}
    content = _pack(**empty)
    workbook = open_pack(content)
    assert workbook.sheetnames == SHEETS
    outputs = workbook["Performance and outputs"]
    texts = [c.value for row in outputs.iter_rows() for c in row if isinstance(c.value, str)]
    assert "None of these services has a KPI of this kind in its performance framework." in texts
    summary = [c.value for row in workbook["Summary"].iter_rows() for c in row]
    assert "No KPI was red or amber in Q4 2013/14." not in summary
    assert (
        "No return has been accepted for this quarter (Q4 2013/14), so no KPI can be rated red or amber."
        in summary
    )
    assert (
        "No KPIs have been reported for Q4 2013/14: no return for the quarter has been accepted yet."
        in summary
    )


def test_file_name_names_the_audience_and_quarter() -> None:
    data = build_pack_data(
        builders.marts(), Audience("commissioner", 9, "Mayor's Office (MOPAC)"), "2013-14-Q4", 4
    )
    assert filename(data) == "board-pack-mayor-s-office-mopac-2013-14-Q4.xlsx"
