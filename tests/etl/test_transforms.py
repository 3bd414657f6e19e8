"""The pure transforms, on small literal DataFrames."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.transform.contracts import contract_viewers, dim_contract, renewals, snapshots, version_in_force
from etl.transform.outcomes import outcome_facts
from etl.transform.performance import kpi_results, procurement_ratings, with_outcome_parts
from etl.transform.periods import dim_period
from monitor.contracts.renewal import Ending, Leads, Terms, derive_status, extend_end, term_end

ORGANISATIONS = pd.DataFrame(
    {
        "organisation_id": [1, 2, 3, 4],
        "name": ["Council A", "Council B", "Refuge", "Council C"],
        "kind": ["commissioner", "commissioner", "provider", "commissioner"],
        "charity_number": [None, None, "277424", None],
        "company_number": [None, None, None, None],
    }
)
# Halton's children's service: 4 November 2013, one year plus a one-year option.
CONTRACTS = pd.DataFrame(
    {
        "contract_id": [7],
        "reference": ["HBC-CYP-DA-01"],
        "title": ["Children's recovery"],
        "service_type": ["children's therapeutic"],
        "category": ["core"],
        "agreement_type": ["contract"],
        "provider_id": [3],
        "lead_commissioner_id": [1],
        "start_date": [date(2013, 11, 4)],
        "original_end_date": [date(2014, 11, 3)],
        "end_date": [date(2015, 11, 3)],
        "award_date": [date(2013, 9, 1)],
        "notice_period_months": [3],
        "annual_value": [50000.0],
    }
)
EXTENSION = pd.DataFrame(
    {
        "contract_id": [7],
        "amendment_id": [1],
        "kind": ["extension"],
        "effective_date": [date(2014, 8, 1)],
        "old_end_date": [date(2014, 11, 3)],
        "new_end_date": [date(2015, 11, 3)],
    }
)
NO_OPTIONS = pd.DataFrame(columns=["contract_id", "sequence", "length_months", "state"])


def test_dim_period_has_every_quarter_with_dated_labels() -> None:
    periods = dim_period(["2013-14-Q3", "2014-15-Q1"])
    assert periods["period_key"].tolist() == ["2013-14-Q3", "2013-14-Q4", "2014-15-Q1"]
    q4 = periods.set_index("period_key").loc["2013-14-Q4"]
    assert (q4["financial_year"], q4["start_date"], q4["end_date"]) == (
        "2013/14",
        date(2014, 1, 1),
        date(2014, 3, 31),
    )
    assert q4["label"] == "Q4 2013/14 (January to March 2014)"


def test_an_extension_starts_a_new_version_and_past_quarters_keep_the_old_terms() -> None:
    versions = dim_contract(CONTRACTS, EXTENSION, ORGANISATIONS)
    assert versions[["version", "valid_from", "valid_to", "end_date", "is_current"]].values.tolist() == [
        [1, date(2013, 11, 4), date(2014, 8, 1), date(2014, 11, 3), False],
        [2, date(2014, 8, 1), None, date(2015, 11, 3), True],
    ]
    assert versions["provider_name"].tolist() == ["Refuge", "Refuge"]
    keys = version_in_force(
        versions, pd.Series([7, 7, 7]), pd.Series([date(2013, 12, 31), date(2014, 6, 30), date(2014, 9, 30)])
    )
    assert keys.tolist() == [7001, 7001, 7002]


def test_viewers_are_each_commissioner_and_each_of_their_partnerships() -> None:
    partners = pd.DataFrame({"contract_id": [7], "organisation_id": [2]})
    partnerships = pd.DataFrame({"partnership_id": [10, 11], "name": ["Board A", "Forum C"]})
    members = pd.DataFrame({"partnership_id": [10, 10, 11], "organisation_id": [1, 2, 4]})
    viewers = contract_viewers(CONTRACTS, partners, ORGANISATIONS, partnerships, members)
    assert viewers[["viewer", "viewer_kind", "viewer_name"]].values.tolist() == [
        ["organisation:1", "commissioner", "Council A"],
        ["organisation:2", "commissioner", "Council B"],
        ["partnership:10", "board", "Board A"],
    ]


def test_renewals_follow_the_registers_rules() -> None:
    row = renewals(CONTRACTS, NO_OPTIONS, EXTENSION, date(2015, 6, 1), Leads(2, 9)).iloc[0]
    assert row["status"] == "extended"
    assert row["notice_date"] == date(2015, 8, 3)
    assert row["decision_by_date"] == date(2015, 6, 3)
    assert row["days_to_end"] == (date(2015, 11, 3) - date(2015, 6, 1)).days


def test_monthly_snapshots_use_the_terms_in_force_each_month() -> None:
    versions = dim_contract(CONTRACTS, EXTENSION, ORGANISATIONS)
    months = snapshots(CONTRACTS, versions, EXTENSION, date(2014, 9, 15)).set_index("snapshot_month")
    # The month it starts in, on whose 1st it was awarded but not yet running.
    assert (months.index[0], months.iloc[0]["status"]) == (date(2013, 11, 1), "mobilising")
    assert months.loc[date(2014, 7, 1), "days_to_end"] == (date(2014, 11, 3) - date(2014, 7, 1)).days
    assert months.loc[date(2014, 9, 1), "status"] == "extended"
    assert months.loc[date(2014, 9, 1), "contract_version_key"] == 7002


KPIS = pd.DataFrame(
    {
        "kpi_id": [1, 2],
        "code": ["REF-RECEIVED", "WAIT-DAYS"],
        "name": ["Referrals received", "Wait"],
        "unit": ["count", "days"],
        "direction": ["higher is better", "lower is better"],
        "category": ["output", "quality"],
        "rollup": ["sum", "mean"],
    }
)


def _framework(**overrides: object) -> pd.DataFrame:
    item = {
        "contract_id": 7,
        "kpi_id": 1,
        "target": 400.0,
        "target_basis": "year",
        "amber_tolerance_pct": 10.0,
        "direction": None,
        "effective_from": "2013-14-Q3",
        "effective_to": None,
        # In force throughout these quarters (tests/etl/test_part_quarters.py
        # covers contracts that start or end inside one).
        "contract_start": date(2013, 4, 1),
        "contract_last_day": date(2016, 3, 31),
    }
    item.update(overrides)
    return pd.DataFrame([item])


def _figures(rows: list[tuple[int, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "contract_id": 7,
                "kpi_id": k,
                "period_key": p,
                "breakdown": b,
                "actual": a,
                "numerator": None,
                "denominator": None,
            }
            for k, p, b, a in rows
        ]
    )


@pytest.mark.parametrize(
    ("actual", "rag"),
    [(100.0, "green"), (95.0, "amber"), (90.0, "amber"), (89.0, "red"), (None, "not rated")],
)
def test_a_yearly_count_target_is_shared_over_quarters_and_rated(actual: float | None, rag: str) -> None:
    results = kpi_results(_figures([(1, "2013-14-Q3", "", actual)]), _framework(), KPIS)  # type: ignore[list-item]
    assert results.loc[0, "target"] == 100.0
    assert results.loc[0, "rag"] == rag


def test_lower_is_better_and_breakdowns_carry_no_target() -> None:
    framework = pd.concat([_framework(), _framework(kpi_id=2, target=5.0, target_basis="quarter")])
    figures = _figures(
        [(2, "2013-14-Q3", "", 5.4), (1, "2013-14-Q3", "Police", 40.0), (1, "2013-14-Q3", "", 100.0)]
    )
    results = kpi_results(figures, framework, KPIS).set_index(["kpi_id", "breakdown"])
    assert results.loc[(2, ""), "rag"] == "amber"
    assert results.loc[(2, ""), "variance_pct"] == 8.0
    assert np.isnan(results.loc[(1, "Police"), "target"])
    assert results.loc[(1, "Police"), "rag"] == "not rated"


def test_a_changed_target_applies_from_its_quarter_only() -> None:
    framework = pd.concat(
        [_framework(effective_to="2013-14-Q3"), _framework(target=800.0, effective_from="2013-14-Q4")]
    )
    figures = _figures([(1, "2013-14-Q3", "", 150.0), (1, "2013-14-Q4", "", 150.0)])
    results = kpi_results(figures, framework, KPIS)
    assert results["target"].tolist() == [100.0, 200.0]
    assert results["rag"].tolist() == ["green", "red"]


def test_red_twice_running_is_inadequate() -> None:
    rows = pd.DataFrame(
        {
            "viewer": ["organisation:1"] * 3,
            "contract_id": [7] * 3,
            "kpi_code": ["REF-RECEIVED"] * 3,
            "breakdown": [""] * 3,
            "period_key": ["2013-14-Q4", "2013-14-Q2", "2013-14-Q3"],
            "rag": ["red", "green", "red"],
        }
    )
    assert procurement_ratings(rows).tolist() == ["Inadequate", "Good", "Requires improvement"]


def test_outcomes_are_summed_up_and_swemwbs_is_converted_first() -> None:
    scores = pd.DataFrame(
        {
            "contract_id": [7] * 5,
            "period_key": ["2013-14-Q4"] * 5,
            "measure": ["SDQ", "SDQ", "SDQ", "SWEMWBS", "SWEMWBS"],
            "informant": ["parent", "parent", "teacher", None, None],
            "pre_score": [20, 18, 15, 7, 20],
            "post_score": [14, 17, 9, 8, 21],
        }
    )
    facts = outcome_facts(scores, {"SDQ": 5, "WEMWBS": 3, "SWEMWBS": 1}).set_index(["measure", "informant"])
    parent = facts.loc[("SDQ", "parent")]
    assert (parent["paired_cases"], parent["improved_cases"], parent["mean_change"]) == (2, 1, -3.5)
    swemwbs = facts.loc[("SWEMWBS", "")]
    # Raw 7 -> 8 is metric 7.00 -> 9.51; raw 20 -> 21 is 18.59 -> 19.25.
    assert swemwbs["mean_pre"] == pytest.approx((7.00 + 18.59) / 2, abs=0.01)
    assert swemwbs["improved_cases"] == 1


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(date(2012, 1, 1), date(2016, 1, 1)),
    months=st.integers(1, 36),
    extension=st.one_of(st.none(), st.integers(1, 24)),
    award_before=st.integers(0, 120),
    ending=st.one_of(
        st.none(), st.tuples(st.sampled_from(["termination", "decommissioning"]), st.integers(1, 40))
    ),
)
def test_snapshot_statuses_follow_the_registers_rules(
    start: date, months: int, extension: int | None, award_before: int, ending: tuple[str, int] | None
) -> None:
    original_end = term_end(start, months)
    end = extend_end(original_end, extension) if extension else original_end
    contract = CONTRACTS.assign(
        start_date=[start],
        original_end_date=[original_end],
        end_date=[end],
        award_date=[start - timedelta(days=award_before)],
    )
    amendments = EXTENSION.iloc[0:0]
    served = None
    if ending:
        served = Ending(ending[0], start + timedelta(days=30 * ending[1]))  # type: ignore[arg-type]
        amendments = pd.DataFrame(
            [
                {
                    "contract_id": 7,
                    "amendment_id": 9,
                    "kind": ending[0],
                    "effective_date": served.effective_date,
                    "old_end_date": None,
                    "new_end_date": None,
                }
            ]
        )
    versions = dim_contract(contract, amendments, ORGANISATIONS)
    today = date(2019, 1, 1)
    for row in snapshots(contract, versions, amendments, today).itertuples():
        month = row.snapshot_month
        terms = Terms(
            start,
            end,
            original_end,
            3,
            (),
            contract["award_date"][0],
            served if served and served.effective_date <= month else None,
        )
        assert row.status == derive_status(terms, month).value, month


def test_improvement_percentages_take_their_parts_from_the_outcome_facts() -> None:
    kpis = pd.DataFrame({"kpi_id": [5], "code": ["SDQ-IMPROVED"]})
    results = pd.DataFrame(
        {
            "contract_id": [7],
            "kpi_id": [5],
            "period_key": ["2013-14-Q4"],
            "numerator": [np.nan],
            "denominator": [np.nan],
        }
    )
    outcomes = pd.DataFrame(
        {
            "contract_id": [7, 7],
            "period_key": ["2013-14-Q4"] * 2,
            "measure": ["SDQ", "SDQ"],
            "informant": ["parent", "teacher"],
            "paired_cases": [10, 4],
            "improved_cases": [6, 1],
        }
    )
    filled = with_outcome_parts(results, outcomes, kpis)
    assert (filled.loc[0, "numerator"], filled.loc[0, "denominator"]) == (7.0, 14.0)
