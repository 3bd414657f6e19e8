"""Outcome measure summaries: pure calculations, no app or database."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment, FileSystemLoader, select_autoescape

from monitor.config import BaseConfig
from monitor.kpis.library.definitions import DERIVED_FROM_OUTCOMES
from monitor.kpis.performance.outcomes import (
    IMPROVEMENT_KPIS,
    LOW_WELLBEING,
    MEASURES,
    NO_INFORMANT,
    NOT_LOW_WELLBEING,
    SDQ_BAND_NAMES,
    SWEMWBS_RAW_TO_METRIC,
    MeasureSummary,
    OutcomeSettings,
    band_of,
    improvement_kpis,
    summarise_measure,
    summarise_outcomes,
    swemwbs_metric,
)
from monitor.kpis.returns.ingest.result import OutcomeIn
from monitor.kpis.vocabulary import Informant, OutcomeMeasure

TEMPLATES = Path(__file__).resolve().parents[2] / "monitor" / "templates"
SETTINGS = OutcomeSettings()


@dataclass(frozen=True)
class Row:
    """A row that may be unpaired (OutcomeIn always has both scores)."""

    measure: str
    informant: str | None
    pre_score: Decimal | int | None
    post_score: Decimal | int | None


def sdq(pre: int, post: int, informant: str | None = "teacher") -> OutcomeIn:
    return OutcomeIn("SDQ", informant, Decimal(pre), Decimal(post))


def wemwbs(pre: int, post: int) -> OutcomeIn:
    return OutcomeIn("WEMWBS", None, Decimal(pre), Decimal(post))


def swemwbs(pre: int, post: int) -> OutcomeIn:
    return OutcomeIn("SWEMWBS", None, Decimal(pre), Decimal(post))


# --- worked examples -------------------------------------------------------


def test_sdq_teacher_worked_example() -> None:
    rows = [sdq(20, 12), sdq(16, 15), sdq(13, 10)]
    [summary] = summarise_outcomes(rows, OutcomeSettings(sdq_reliable_change=Decimal(5)))
    assert summary.measure == "SDQ"
    assert summary.paired == 3
    assert summary.mean_pre == Decimal("16.3")  # 49 / 3
    assert summary.mean_post == Decimal("12.3")  # 37 / 3
    assert summary.mean_change == Decimal("-4.0")
    assert (summary.improved_count, summary.improved_pct) == (1, Decimal("33.3"))  # only 20 -> 12
    assert summary.started_raised_count == 3  # very high, high, slightly raised
    assert (summary.left_raised_count, summary.left_raised_pct) == (1, Decimal("33.3"))  # 13 -> 10
    assert summary.small_sample is True
    assert summary.bands_before == {"close to average": 0, "slightly raised": 1, "high": 1, "very high": 1}
    assert summary.bands_after == {"close to average": 1, "slightly raised": 2, "high": 0, "very high": 0}
    assert improvement_kpis([summary]) == {"SDQ-IMPROVED": Decimal("33.3"), "WEMWBS-IMPROVED": None}


def test_sdq_uses_the_informants_cut_offs() -> None:
    # 13 is slightly raised for a teacher but close to average for a parent or the young person.
    rows = [sdq(13, 13, "teacher"), sdq(13, 13, "parent"), sdq(13, 13, "self")]
    summary = summarise_measure("SDQ", rows, SETTINGS)
    assert summary.bands_before == {"close to average": 2, "slightly raised": 1, "high": 0, "very high": 0}
    assert summary.started_raised_count == 1


def test_sdq_without_a_known_informant_counts_but_is_not_banded() -> None:
    rows = [sdq(25, 10, None), sdq(25, 10, "grandparent"), sdq(25, 10, " Parent ")]
    summary = summarise_measure("SDQ", rows, SETTINGS)
    assert summary.paired == 3
    assert summary.improved_count == 3
    assert summary.started_raised_count == 1  # only the parent's
    assert summary.left_raised_count == 1
    assert summary.bands_before[NO_INFORMANT] == 2
    assert summary.bands_after[NO_INFORMANT] == 2


def test_wemwbs_meaningful_change_and_low_wellbeing() -> None:
    rows = [wemwbs(38, 41), wemwbs(40, 42), wemwbs(50, 52), wemwbs(30, 35), wemwbs(45, 40)]
    summary = summarise_measure("WEMWBS", rows, SETTINGS)
    assert summary.paired == 5
    assert summary.improved_count == 2  # +3 and +5; +2, +2 and -5 are not
    assert summary.improved_pct == Decimal("40.0")
    assert summary.started_raised_count == 3  # 38, 40 and 30 are <= 40
    assert summary.left_raised_count == 2  # 38 -> 41, 40 -> 42
    assert summary.left_raised_pct == Decimal("66.7")
    assert summary.bands_before == {LOW_WELLBEING: 3, NOT_LOW_WELLBEING: 2}
    assert summary.bands_after == {LOW_WELLBEING: 2, NOT_LOW_WELLBEING: 3}
    assert summary.mean_change == Decimal("1.4")  # (3 + 2 + 2 + 5 - 5) / 5


def test_swemwbs_is_converted_before_arithmetic() -> None:
    # A raw rise of 1 is 0.52 metric in the middle of the scale but 2.45 at the top.
    rows = [swemwbs(16, 17), swemwbs(34, 35)]
    summary = summarise_measure("SWEMWBS", rows, SETTINGS)
    assert summary.improved_count == 1
    assert summary.mean_pre == Decimal("24.5")  # (16.36 + 32.55) / 2 = 24.455
    assert summary.mean_post == Decimal("25.9")  # (16.88 + 35.00) / 2 = 25.94
    assert summary.mean_change == Decimal("1.5")  # 1.485 rounds half up
    # Low wellbeing is metric <= 19.5: raw 21 (19.25) is low, raw 22 (19.98) is not.
    banded = summarise_measure("SWEMWBS", [swemwbs(21, 22)], SETTINGS)
    assert banded.bands_before == {LOW_WELLBEING: 1, NOT_LOW_WELLBEING: 0}
    assert banded.left_raised_count == 1
    assert banded.improved_count == 0  # 0.73 metric is below the meaningful change of 1


def test_swemwbs_rejects_scores_off_the_raw_scale() -> None:
    for bad in (6, 36, Decimal("20.5")):
        with pytest.raises(ValueError, match="7 to 35"):
            swemwbs_metric(bad)
    with pytest.raises(ValueError):
        summarise_measure("SWEMWBS", [swemwbs(6, 20)], SETTINGS)
    assert swemwbs_metric(Decimal("21.00")) == Decimal("19.25")  # as stored by Numeric(6, 2)


def test_unpaired_rows_and_other_measures_are_ignored() -> None:
    rows = [
        Row("SDQ", "teacher", 20, None),
        Row("SDQ", "teacher", None, 10),
        Row("WEMWBS", None, 40, 45),
        Row("DASH", None, 10, 5),
    ]
    summaries = summarise_outcomes(rows, SETTINGS)
    assert [s.measure for s in summaries] == ["SDQ", "WEMWBS"]
    sdq_summary = summaries[0]
    assert sdq_summary.paired == 0
    assert sdq_summary.mean_pre is None and sdq_summary.mean_change is None
    assert sdq_summary.improved_pct is None and sdq_summary.left_raised_pct is None
    assert sdq_summary.small_sample is True
    assert sum(sdq_summary.bands_before.values()) == 0
    assert improvement_kpis(summaries) == {"SDQ-IMPROVED": None, "WEMWBS-IMPROVED": Decimal("100.0")}


def test_measure_names_are_matched_loosely_and_enums_work() -> None:
    rows = [
        OutcomeIn(OutcomeMeasure.SDQ, Informant.PARENT, Decimal(20), Decimal(10)),
        OutcomeIn("sdq ", "parent", Decimal(20), Decimal(10)),
    ]
    [summary] = summarise_outcomes(rows, SETTINGS)
    assert summary.paired == 2


def test_summaries_come_in_a_fixed_order() -> None:
    rows = [swemwbs(10, 20), wemwbs(30, 40), sdq(20, 10)]
    assert [s.measure for s in summarise_outcomes(rows, SETTINGS)] == ["SDQ", "WEMWBS", "SWEMWBS"]
    assert summarise_outcomes([], SETTINGS) == []


def test_small_sample_threshold_is_strictly_fewer_than() -> None:
    settings = OutcomeSettings(small_sample=3)
    assert summarise_measure("SDQ", [sdq(20, 10)] * 2, settings).small_sample is True
    assert summarise_measure("SDQ", [sdq(20, 10)] * 3, settings).small_sample is False


def test_unknown_measure_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown outcome measure"):
        summarise_measure("DASH", [], SETTINGS)


# --- settings ----------------------------------------------------------------


def test_settings_from_config_defaults_match_the_app_config() -> None:
    config = BaseConfig()
    from_object = OutcomeSettings.from_config(config)
    from_mapping = OutcomeSettings.from_config(
        {key: getattr(config, key) for key in dir(config) if key.isupper()}
    )
    assert from_object == from_mapping
    assert from_object.small_sample == config.OUTCOME_SMALL_SAMPLE
    assert from_object.sdq_reliable_change == config.SDQ_RELIABLE_CHANGE
    assert from_object.wemwbs_meaningful_change == config.WEMWBS_MEANINGFUL_CHANGE
    assert from_object.swemwbs_meaningful_change == config.SWEMWBS_MEANINGFUL_CHANGE
    assert OutcomeSettings.from_config({}) == OutcomeSettings()


def test_settings_from_config_overrides() -> None:
    settings = OutcomeSettings.from_config(
        {
            "OUTCOME_SMALL_SAMPLE": 10,
            "SDQ_RELIABLE_CHANGE": 6,
            "WEMWBS_MEANINGFUL_CHANGE": "3.5",
            "SWEMWBS_MEANINGFUL_CHANGE": 2,
            "SDQ_BAND_CUTOFFS": {"Parent": [12, 15, 18]},
            "WEMWBS_LOW_WELLBEING_MAX": 42,
            "SWEMWBS_LOW_WELLBEING_MAX": "18.0",
        }
    )
    assert settings.small_sample == 10
    assert settings.sdq_reliable_change == Decimal(6)
    assert settings.wemwbs_meaningful_change == Decimal("3.5")
    assert [band.upper for band in settings.sdq_bands["parent"]] == [12, 15, 18, None]
    assert [band.upper for band in settings.sdq_bands["teacher"]] == [11, 15, 18, None]  # kept
    assert band_of(42, settings.wemwbs_bands).name == LOW_WELLBEING
    assert band_of(Decimal("18.59"), settings.swemwbs_bands).name == NOT_LOW_WELLBEING


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("OUTCOME_SMALL_SAMPLE", -1),
        ("OUTCOME_SMALL_SAMPLE", "thirty"),
        ("SDQ_RELIABLE_CHANGE", 0),
        ("WEMWBS_MEANINGFUL_CHANGE", "three"),
        ("SDQ_BAND_CUTOFFS", {"teacher": [11, 15]}),
        ("SDQ_BAND_CUTOFFS", {"teacher": [15, 11, 18]}),
        ("SDQ_BAND_CUTOFFS", [11, 15, 18]),
    ],
)
def test_settings_refuse_nonsense(key: str, value: object) -> None:
    with pytest.raises(ValueError, match=key.split("_")[0]):
        OutcomeSettings.from_config({key: value})


def test_improvement_kpi_codes_match_the_library() -> None:
    assert dict(IMPROVEMENT_KPIS) == DERIVED_FROM_OUTCOMES
    assert set(MEASURES) == {m.value for m in OutcomeMeasure}
    assert set(SETTINGS.sdq_bands) == {i.value for i in Informant}


# --- properties --------------------------------------------------------------


def test_swemwbs_table_endpoints_and_monotonic() -> None:
    assert swemwbs_metric(7) == Decimal("7.00")
    assert swemwbs_metric(35) == Decimal("35.00")
    assert sorted(SWEMWBS_RAW_TO_METRIC) == list(range(7, 36))


@given(st.integers(7, 34), st.integers(1, 28))
def test_swemwbs_conversion_is_strictly_increasing(raw: int, step: int) -> None:
    higher = min(raw + step, 35)
    assert swemwbs_metric(raw) < swemwbs_metric(higher)
    assert Decimal(7) <= swemwbs_metric(raw) <= Decimal(35)


SDQ_CUTOFFS = {"teacher": (11, 15, 18), "parent": (13, 16, 19), "self": (14, 17, 19)}


@pytest.mark.parametrize("informant", sorted(SDQ_CUTOFFS))
def test_sdq_band_boundaries_are_exactly_at_the_cut_offs(informant: str) -> None:
    scheme = SETTINGS.sdq_bands[informant]
    for index, cutoff in enumerate(SDQ_CUTOFFS[informant]):
        assert band_of(cutoff, scheme).name == SDQ_BAND_NAMES[index]
        assert band_of(cutoff + 1, scheme).name == SDQ_BAND_NAMES[index + 1]
    assert band_of(0, scheme).name == "close to average"
    assert band_of(40, scheme).name == "very high"


@given(st.sampled_from(sorted(SDQ_CUTOFFS)), st.integers(0, 40))
def test_sdq_band_matches_a_plain_reading_of_the_table(informant: str, score: int) -> None:
    expected = SDQ_BAND_NAMES[sum(score > cutoff for cutoff in SDQ_CUTOFFS[informant])]
    band = band_of(score, SETTINGS.sdq_bands[informant])
    assert band.name == expected
    assert band.raised is (expected != "close to average")


@given(st.integers(14, 70))
def test_wemwbs_low_wellbeing_boundary(score: int) -> None:
    assert (band_of(score, SETTINGS.wemwbs_bands).name == LOW_WELLBEING) is (score <= 40)


def _scores(measure: str) -> st.SearchStrategy[int]:
    return {"SDQ": st.integers(0, 40), "WEMWBS": st.integers(14, 70), "SWEMWBS": st.integers(7, 35)}[measure]


@st.composite
def outcome_rows(draw: st.DrawFn) -> list[Row]:
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        measure = draw(st.sampled_from(MEASURES))
        informant = draw(st.sampled_from(["parent", "teacher", "self", None])) if measure == "SDQ" else None
        pre = draw(st.none() | _scores(measure))
        post = draw(st.none() | _scores(measure))
        rows.append(Row(measure, informant, pre, post))
    return rows


@given(outcome_rows(), st.integers(0, 40))
def test_summary_invariants(rows: list[Row], small: int) -> None:
    settings = OutcomeSettings(small_sample=small)
    for summary in summarise_outcomes(rows, settings):
        paired_rows = [
            r
            for r in rows
            if r.measure == summary.measure and r.pre_score is not None and r.post_score is not None
        ]
        assert summary.paired == len(paired_rows)
        assert 0 <= summary.improved_count <= summary.paired
        assert 0 <= summary.left_raised_count <= summary.started_raised_count <= summary.paired
        assert sum(summary.bands_before.values()) == summary.paired == sum(summary.bands_after.values())
        assert list(summary.bands_before) == list(summary.bands_after)
        assert (summary.improved_pct is None) is (summary.paired == 0)
        assert (summary.left_raised_pct is None) is (summary.started_raised_count == 0)
        assert (summary.mean_change is None) is (summary.paired == 0)
        assert summary.small_sample is (summary.paired < small)
        for pct in (summary.improved_pct, summary.left_raised_pct):
            assert pct is None or (Decimal(0) <= pct <= Decimal(100) and pct.as_tuple().exponent == -1)
        if summary.mean_pre is not None and summary.mean_post is not None and summary.mean_change is not None:
            # Each is rounded on its own, so they can disagree by at most a rounding step.
            assert abs(summary.mean_post - summary.mean_pre - summary.mean_change) <= Decimal("0.1")


@given(outcome_rows(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(rows: list[Row], rnd: random.Random) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert summarise_outcomes(shuffled, SETTINGS) == summarise_outcomes(rows, SETTINGS)


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=30), st.integers(1, 10))
def test_a_higher_sdq_threshold_never_finds_more_improvement(
    pairs: list[tuple[int, int]], threshold: int
) -> None:
    rows = [sdq(pre, post) for pre, post in pairs]
    low = summarise_measure("SDQ", rows, OutcomeSettings(sdq_reliable_change=Decimal(threshold)))
    high = summarise_measure("SDQ", rows, OutcomeSettings(sdq_reliable_change=Decimal(threshold + 1)))
    assert high.improved_count <= low.improved_count
    assert low.improved_count == sum(pre - post >= threshold for pre, post in pairs)


# --- the template partial ----------------------------------------------------


def render(summaries: list[MeasureSummary]) -> BeautifulSoup:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    html = env.get_template("kpis/_outcomes.html").render(outcome_summaries=summaries)
    return BeautifulSoup(html, "html.parser")


def test_partial_renders_a_table_with_headers_and_small_sample_tag() -> None:
    rows = [sdq(20, 12), sdq(16, 15), sdq(13, 10)] + [wemwbs(35, 45)] * 30
    page = render(summarise_outcomes(rows, SETTINGS))
    main = page.find("table", class_="govuk-table")
    assert main is not None
    assert "Outcome measures" in main.caption.get_text()
    assert all(th.get("scope") == "col" for th in main.thead.find_all("th"))
    body_rows = main.tbody.find_all("tr")
    assert [tr.th.get("scope") for tr in body_rows] == ["row", "row"]
    sdq_row, wemwbs_row = body_rows
    tag = sdq_row.th.find("strong", class_="govuk-tag")
    assert tag is not None and "govuk-tag--yellow" in tag["class"] and tag.get_text() == "Small sample"
    assert wemwbs_row.th.find("strong") is None  # 30 paired cases is not small
    cells = [td.get_text(" ", strip=True) for td in sdq_row.find_all("td")]
    assert cells == ["3", "16.3", "12.3", "-4.0", "33.3% (1 of 3)", "33.3% (1 of 3)"]
    assert [td.get_text(strip=True) for td in wemwbs_row.find_all("td")][4] == "100.0%(30 of 30)"
    text = page.get_text(" ", strip=True)
    assert "fewer than 30 paired cases" in text
    assert "fell by 5 or more" in text and "rose by 3 or more" in text
    band_tables = page.find_all("table")[1:]
    assert len(band_tables) == 2
    assert all(table.caption for table in band_tables)
    sdq_bands = {
        tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in band_tables[0].tbody.find_all("tr")
    }
    assert sdq_bands == {
        "Close to average": ["0", "1"],
        "Slightly raised": ["1", "2"],
        "High": ["1", "0"],
        "Very high": ["1", "0"],
    }


def test_partial_shows_missing_figures_in_words() -> None:
    page = render(summarise_outcomes([Row("SDQ", "teacher", 20, None)], SETTINGS))
    row = page.find("table").tbody.tr
    assert "not available" in row.get_text()
    assert "None" not in page.get_text()


def test_partial_with_nothing_to_show() -> None:
    page = render([])
    assert page.find("table") is None
    assert "No outcome measure scores" in page.get_text()
