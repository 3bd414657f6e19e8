"""Part quarters in the warehouse (issue 11, item 4), on small literal frames:
DV-001 expired on 31 January 2014, so its January to March 2014 targets are
pro-rated (31 of 90 days), and its cost per referral compares a year's money
with referrals over the same days."""

from __future__ import annotations

from datetime import date

import pandas as pd

from etl.transform.marts import Facts, _value_for_money
from etl.transform.performance import kpi_results
from etl.transform.periods import contract_days, dim_period

DV001 = 1
KPIS = pd.DataFrame(
    {
        "kpi_id": [1, 2],
        "code": ["REF-RECEIVED", "FEEL-SAFER"],
        "name": ["Referrals received", "Feel safer"],
        "unit": ["count", "percentage"],
        "direction": ["higher is better", "higher is better"],
        "category": ["output", "outcome"],
        "rollup": ["sum", "mean"],
    }
)
CONTRACTS = pd.DataFrame(
    {
        "contract_id": [DV001],
        "reference": ["LBBD-DV-001"],
        "title": ["IDSVA"],
        "provider_name": ["Refuge"],
        "service_type": ["IDVA/IDSVA"],
        "category": ["core"],
        "start_date": [date(2011, 2, 1)],
        "end_date": [date(2014, 1, 31)],
    }
)
NO_AMENDMENTS = pd.DataFrame(
    columns=["contract_id", "amendment_id", "kind", "effective_date", "old_end_date", "new_end_date"]
)


def _framework() -> pd.DataFrame:
    items = pd.DataFrame(
        {
            "contract_id": [DV001, DV001],
            "kpi_id": [1, 2],
            "target": [60.0, 85.0],
            "target_basis": ["quarter", "quarter"],
            "amber_tolerance_pct": [10.0, 10.0],
            "direction": [None, None],
            "effective_from": ["2013-14-Q1", "2013-14-Q1"],
            "effective_to": [None, None],
        }
    )
    return items.merge(contract_days(CONTRACTS, NO_AMENDMENTS), on="contract_id", how="left")


def _figures(rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "contract_id": DV001,
                "kpi_id": kpi,
                "period_key": period,
                "breakdown": "",
                "actual": actual,
                "numerator": None,
                "denominator": None,
            }
            for kpi, period, actual in rows
        ]
    )


def test_contract_days_take_a_termination_into_account() -> None:
    ended = pd.DataFrame(
        {
            "contract_id": [DV001],
            "amendment_id": [1],
            "kind": ["termination"],
            "effective_date": [date(2013, 12, 1)],
            "old_end_date": [None],
            "new_end_date": [None],
        }
    )
    days = contract_days(CONTRACTS, ended).set_index("contract_id")
    assert days.loc[DV001, "contract_last_day"] == date(2013, 11, 30)
    assert contract_days(CONTRACTS, NO_AMENDMENTS).loc[0, "contract_last_day"] == date(2014, 1, 31)


def test_dv001s_last_quarter_is_judged_against_pro_rated_count_targets() -> None:
    figures = _figures([(1, "2013-14-Q3", 61.0), (1, "2013-14-Q4", 25.0), (2, "2013-14-Q4", 86.0)])
    results = kpi_results(figures, _framework(), KPIS).set_index(["kpi_id", "period_key"])
    assert results.loc[(1, "2013-14-Q3"), "target"] == 60.0
    assert results.loc[(1, "2013-14-Q4"), "target"] == 21.0
    assert results.loc[(1, "2013-14-Q4"), "rag"] == "green"
    assert results.loc[(1, "2013-14-Q4"), "days_in_force"] == 31
    # A percentage is as fair a target for 31 days as for 90.
    assert results.loc[(2, "2013-14-Q4"), "target"] == 85.0


def _facts(periods_reported: list[str], referrals: float = 60.0) -> Facts:
    figures = _figures([(1, period, referrals) for period in periods_reported])
    results = kpi_results(figures, _framework(), KPIS)
    empty = pd.DataFrame()
    return Facts(
        contracts=CONTRACTS,
        viewers=pd.DataFrame(
            {
                "contract_id": [DV001],
                "viewer": ["organisation:9"],
                "viewer_kind": ["commissioner"],
                "viewer_name": ["CCG"],
            }
        ),
        kpis=KPIS,
        periods=dim_period(["2013-14-Q1", "2013-14-Q4"]),
        organisations=empty,
        kpi_results=results,
        funding=pd.DataFrame(
            {
                "contract_id": [DV001],
                "funder_id": [9],
                "funding_stream": ["CCG"],
                "financial_year": ["2013/14"],
                "amount": [250_000.0],
            }
        ),
        outcomes=pd.DataFrame(columns=["contract_id", "period_key", "improved_cases"]),
        renewals=empty,
        cohorts=empty,
        as_at=date(2014, 5, 6),
    )


def test_cost_per_referral_compares_money_and_referrals_over_the_same_days() -> None:
    # 2013/14: DV-001 was in force from 1 April 2013 to 31 January 2014, 306
    # days. With only Q1 to Q3 reported (275 days), the year's £250,000 is
    # counted for those 275 days, not divided by three quarters' referrals.
    three = _value_for_money(_facts(["2013-14-Q1", "2013-14-Q2", "2013-14-Q3"])).iloc[0]
    assert three["spend"] == 250_000.0
    assert three["referrals"] == 180.0
    assert three["cost_per_referral"] == round(250_000 * 275 / 306 / 180, 2)
    # Every quarter reported, the last for its 31 days: the whole year's money.
    four = _value_for_money(
        _facts(["2013-14-Q1", "2013-14-Q2", "2013-14-Q3", "2013-14-Q4"], referrals=50.0)
    ).iloc[0]
    assert four["cost_per_referral"] == 1250.0
