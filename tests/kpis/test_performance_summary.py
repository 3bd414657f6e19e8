"""The performance pages' paragraph per contract and their quarter choice:
pure functions, checked on hand-worked cases."""

from __future__ import annotations

from decimal import Decimal

from monitor.disclosure.suppression import CONFIDENTIAL, NOT_AVAILABLE
from monitor.kpis.performance.quarters import choose_quarter
from monitor.kpis.performance.rag import Rag
from monitor.kpis.performance.summary import KpiInQuarter, RatingCounts, rating_counts, summary_text
from monitor.kpis.periods import Quarter

Q1, Q2, Q3 = Quarter(2013, 1), Quarter(2013, 2), Quarter(2013, 3)


def kpi(name: str, rag: Rag, figure: str | None, previous: str | None = None, **kwargs: str) -> KpiInQuarter:
    return KpiInQuarter(
        name=name,
        unit=kwargs.pop("unit", "count"),
        rag=rag,
        figure=None if figure is None else Decimal(figure),
        previous=None if previous is None else Decimal(previous),
        **kwargs,
    )


def test_ratings_then_what_moved_and_what_stayed_the_same() -> None:
    kpis = [
        kpi("Feeling safer at closure", Rag.AMBER, "80.5", "85", unit="percentage"),
        kpi("Repeat MARAC referrals", Rag.RED, "7"),  # nothing the quarter before
        kpi("Abuse stopped at closure", Rag.NONE, None, "70", unit="percentage"),  # nothing this quarter
        kpi("Active caseload", Rag.RED, "17", "17"),
        kpi("Cases closed", Rag.NONE, "14", "12"),  # no target, but a change
        kpi("Referrals received", Rag.GREEN, "50", "38"),
    ]
    assert summary_text(Q2, kpis, Q1) == (
        "2 of 6 KPIs red, 1 amber and 1 green; 2 not rated. Since Q1 2013/14, "
        "feeling safer at closure went down 4.5 percentage points, cases closed went up 2 "
        "and referrals received went up 12; active caseload stayed the same."
    )


def test_a_change_in_a_percentage_is_in_percentage_points() -> None:
    # 50% to 80.5% is up 30.5 points (a 61% rise, which is not what is meant).
    kpis = [kpi("Feeling safer at closure", Rag.GREEN, "80.5", "50", unit="percentage")]
    text = summary_text(Q2, kpis, Q1)
    assert text.endswith("Since Q1 2013/14, feeling safer at closure went up 30.5 percentage points.")
    assert "61" not in text and "%" not in text


def test_a_hidden_figure_is_counted_but_never_described_or_compared() -> None:
    kpis = [
        kpi("Referrals received", Rag.GREEN, "42", "40"),
        # Hidden this quarter: even a figure and rating given by mistake are not read.
        kpi("Repeat MARAC referrals", Rag.RED, "3", "7", marker=CONFIDENTIAL),
        # Hidden the quarter before: no change to or from it.
        kpi("Active caseload", Rag.NONE, "5", "4", previous_marker=CONFIDENTIAL),
        kpi("Cases closed", Rag.NONE, None, marker=NOT_AVAILABLE),
    ]
    assert rating_counts(kpis) == RatingCounts(red=0, amber=0, green=1, not_rated=2, hidden=1)
    text = summary_text(Q2, kpis, Q1)
    assert text == (
        "0 of 4 KPIs red, 0 amber and 1 green; 2 not rated and 1 hidden to protect privacy. "
        "Since Q1 2013/14, referrals received went up 2."
    )
    assert "MARAC" not in text and "caseload" not in text and "up 1" not in text and "down 4" not in text
    assert [k.change for k in kpis] == ["up 2", "", "", ""]


def test_nothing_to_compare_and_no_figures() -> None:
    only_hidden_before = [kpi("Referrals received", Rag.GREEN, "42", "3", previous_marker=CONFIDENTIAL)]
    assert summary_text(Q2, only_hidden_before, Q1) == (
        "0 of 1 KPI red, 0 amber and 1 green. There are no figures from Q1 2013/14 to compare with."
    )
    # The contract's first quarter: nothing before it.
    assert summary_text(Q1, only_hidden_before, None) == "0 of 1 KPI red, 0 amber and 1 green."
    assert (
        summary_text(Q3, [kpi("Referrals received", Rag.NONE, None, "40")], Q2)
        == "No figures for Q3 2013/14."
    )
    assert summary_text(Q3, [], Q2) == "No figures for Q3 2013/14."


def test_rating_tags_read_red_amber_green_with_words() -> None:
    tags = RatingCounts(red=2, amber=1, green=5, hidden=1).tags
    assert [t.label for t in tags] == ["Red 2", "Amber 1", "Green 5", "Hidden 1"]
    assert [t.tag_class for t in tags] == [
        "govuk-tag--red",
        "govuk-tag--yellow",
        "govuk-tag--green",
        "govuk-tag--grey",
    ]
    # Red, amber and green always, so a zero is said; not rated when there are any.
    assert [t.label for t in RatingCounts(green=1, not_rated=2).tags] == [
        "Red 0",
        "Amber 0",
        "Green 1",
        "Not rated 2",
    ]


def test_the_quarter_shown_by_default_is_the_latest_with_accepted_figures() -> None:
    reported = {Q1: True, Q3: False, Quarter(2012, 4): True}  # Q3 only provisional
    choice = choose_quarter(reported, None)
    assert (choice.chosen, choice.error) == (Q1, "")
    assert choice.options == [Q3, Q1, Quarter(2012, 4)] and choice.provisional == {Q3}
    assert choose_quarter(reported, " 2013-14-Q3 ").chosen == Q3
    assert choose_quarter({Q3: False}, "").chosen == Q3  # nothing accepted yet: the latest


def test_a_quarter_not_on_offer_gets_a_message_and_the_default() -> None:
    reported = {Q1: True, Q3: False}
    missing = choose_quarter(reported, "2013-14-Q2")
    assert missing.chosen == Q1
    assert missing.error == (
        "There are no figures you can see for Q2 2013/14: choose a quarter from the list. Showing Q1 2013/14."
    )
    nonsense = choose_quarter(reported, "2013-14-Q7")
    assert (nonsense.chosen, nonsense.error) == (Q1, "Choose a quarter from the list. Showing Q1 2013/14.")
    nothing = choose_quarter({}, "2013-14-Q1")
    assert (nothing.chosen, nothing.options) == (None, [])
    assert nothing.error == "There are no figures yet, so there is no quarter to choose."
