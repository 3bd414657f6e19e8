"""Frames shaped like the warehouse marts (etl/schema.py), built by hand, so
the pack can be tested without running the ETL.

Two services of one commissioner over four quarters of 2013/14, with small
counts in places (a quarter's 3 referrals, 2 paired outcome cases), as a
commissioner's own, unsuppressed rows.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from etl.schema import (
    dim_kpi,
    dim_period,
    mart_board_performance,
    mart_funding,
    mart_outcomes,
    mart_renewals,
    mart_value_for_money,
)
from etl.transform import labels

# The warehouse's own label columns, so the frames are what read_marts returns.
from etl.transform.marts import _outcome_labels, _performance_labels, _renewal_labels, _value_for_money_labels
from etl.transform.unmet_need import unmet_need

VIEWER = "organisation:1"
VIEWER_NAME = "Borough Council"
QUARTERS = ["2013-14-Q1", "2013-14-Q2", "2013-14-Q3", "2013-14-Q4"]
MONTHS = ["April to June 2013", "July to September 2013", "October to December 2013", "January to March 2014"]
STARTS = [date(2013, 4, 1), date(2013, 7, 1), date(2013, 10, 1), date(2014, 1, 1)]
ENDS = [date(2013, 6, 30), date(2013, 9, 30), date(2013, 12, 31), date(2014, 3, 31)]
AS_AT = date(2014, 5, 6)

CONTRACTS = {
    1: ("BC-IDVA-01", "Community IDVA service", "Refuge"),
    2: ("BC-CYP-02", "Children's recovery service", "Small Steps"),
}
# code -> (name, unit, direction, category)
KPIS = {
    "REF-RECEIVED": ("Referrals received", "count", "higher is better", "output"),
    "CASES-CLOSED": ("Cases closed", "count", "higher is better", "output"),
    "CONTACT-2WD": ("Contacted within two working days", "percentage", "higher is better", "quality"),
    "FEEL-SAFER": ("Feeling safer at closure", "percentage", "higher is better", "outcome"),
    "COST-PER-CASE": ("Cost per closed case", "currency", "lower is better", "finance"),
}
# (contract, code) -> (target per quarter, actuals Q1..Q4); None is "not reported".
FIGURES: dict[tuple[int, str], tuple[float | None, list[float | None]]] = {
    (1, "REF-RECEIVED"): (40, [42, 38, 30, 45]),
    (1, "CASES-CLOSED"): (30, [31, 29, 25, 33]),
    (1, "CONTACT-2WD"): (90, [92.0, 85.0, 70.0, 80.0]),
    (1, "FEEL-SAFER"): (85, [80.0, 88.0, 75.0, 70.0]),
    (1, "COST-PER-CASE"): (900, [850, 880, 990, 800]),
    # The children's service is small: a quarter with 3 referrals.
    (2, "REF-RECEIVED"): (10, [12, 3, 9, 11]),
    (2, "CASES-CLOSED"): (8, [9, 7, 6, 10]),
    (2, "FEEL-SAFER"): (80, [None, 66.7, 90.0, 60.0]),
}
# Unmet need in Q4 2013/14, the IDVA service's and the children's service's:
# (contract, code, breakdown) -> figure. The children's service's 3 children
# supported is a small count; the IDVA service is for adults and children.
UNMET_NEED: dict[tuple[int, str, str], float] = {
    (1, "REF-NOT-TAKEN", ""): 14,
    (1, "REF-NOT-TAKEN", "No space"): 9,
    (1, "REF-NOT-TAKEN", "Not eligible"): 5,
    (1, "WAITING-END", ""): 11,
    (1, "CHILD-SUPPORT-WANTED", ""): 20,
    (1, "CHILD-SUPPORT-RECEIVED", ""): 6,
    (2, "REF-NOT-TAKEN", ""): 0,
    (2, "WAITING-END", ""): 7,
    (2, "CHILD-SUPPORT-WANTED", ""): 12,
    (2, "CHILD-SUPPORT-RECEIVED", ""): 3,
}
UNMET_NEED_NAMES = {
    "REF-NOT-TAKEN": "Referrals not taken",
    "WAITING-END": "People waiting at the end of the quarter",
    "CHILD-SUPPORT-WANTED": "Children whose support was asked for",
    "CHILD-SUPPORT-RECEIVED": "Children who received support",
}
COHORTS = {1: ("adults", "children and young people"), 2: ("children and young people",)}
COMMENTARY = "Two advocates were on long-term sick leave; cover is now in place."


def _rag(actual: float | None, target: float | None, direction: str) -> str:
    if actual is None or target is None:
        return "not rated"
    better = actual >= target if direction == "higher is better" else actual <= target
    if better:
        return "green"
    within = abs(actual - target) <= abs(target) * 0.1
    return "amber" if within else "red"


RATINGS = {
    "green": "Good",
    "amber": "Approaching target",
    "red": "Requires improvement",
    "not rated": "Other",
}


def _viewer(viewer: str = VIEWER, name: str = VIEWER_NAME, kind: str = "commissioner") -> dict[str, str]:
    return {"viewer": viewer, "viewer_kind": kind, "viewer_name": name}


def performance(viewer: str = VIEWER, with_unmet_need: bool = False) -> pd.DataFrame:
    """The KPI rows; `with_unmet_need` adds the Q4 unmet need figures."""
    rows = []
    for (contract, code), (target, actuals) in FIGURES.items():
        reference, title, provider = CONTRACTS[contract]
        name, unit, direction, _ = KPIS[code]
        for index, actual in enumerate(actuals):
            rag = _rag(actual, target, direction)
            variance = (
                None if actual is None or target is None else round((actual - target) / target * 100, 1)
            )
            percent = unit == "percentage" and actual is not None
            rows.append(
                {
                    **_viewer(viewer),
                    "scope": "service",
                    "contract_id": contract,
                    "contract_reference": reference,
                    "contract_title": title,
                    "provider_name": provider,
                    "service_type": "IDVA/IDSVA",
                    "kpi_code": code,
                    "kpi_name": name,
                    "unit": unit,
                    "breakdown": "",
                    "period_key": QUARTERS[index],
                    "period_label": f"Q{index + 1} 2013/14",
                    "financial_year": "2013/14",
                    "period_sort": index + 1,
                    "actual": np.nan if actual is None else float(actual),
                    "actual_display": "[x]" if actual is None else str(actual),
                    "target": float(target) if target is not None else np.nan,
                    "variance_pct": np.nan if variance is None else variance,
                    # Percentages as parts of 200 cases (the children's service: of 9).
                    "numerator": round(actual * (9 if contract == 2 else 200) / 100) if percent else np.nan,
                    "denominator": (9 if contract == 2 else 200) if percent else np.nan,
                    "rag": rag,
                    "rating": RATINGS[rag],
                    "marker": "[x]" if actual is None else "",
                }
            )
    for (contract, code, breakdown), actual in UNMET_NEED.items() if with_unmet_need else ():
        reference, title, provider = CONTRACTS[contract]
        rows.append(
            {
                **_viewer(viewer),
                "scope": "service",
                "contract_id": contract,
                "contract_reference": reference,
                "contract_title": title,
                "provider_name": provider,
                "service_type": "IDVA/IDSVA",
                "kpi_code": code,
                "kpi_name": UNMET_NEED_NAMES[code],
                "unit": "count",
                "breakdown": breakdown,
                "period_key": QUARTERS[3],
                "period_label": "Q4 2013/14",
                "financial_year": "2013/14",
                "period_sort": 4,
                "actual": float(actual),
                "actual_display": f"{actual:,.0f}",
                "target": np.nan,
                "variance_pct": np.nan,
                "numerator": np.nan,
                "denominator": np.nan,
                "rag": "not rated",
                "rating": "Other",
                "marker": "",
            }
        )
    frame = pd.DataFrame(rows)
    counts = frame[frame["unit"].eq("count")]
    totals = counts.groupby(
        ["kpi_code", "kpi_name", "unit", "breakdown", "period_key", "period_label", "period_sort"],
        as_index=False,
    )["actual"].sum()
    totals = totals.assign(
        **_viewer(viewer),
        scope="all services",
        contract_id=np.nan,
        contract_reference="",
        contract_title="All services",
        provider_name="",
        service_type="",
        financial_year="2013/14",
        actual_display=totals["actual"].map(lambda v: f"{v:,.0f}"),
        target=np.nan,
        variance_pct=np.nan,
        numerator=np.nan,
        denominator=np.nan,
        rag="not rated",
        rating="Other",
        marker="",
    )
    labelled = _performance_labels(pd.concat([frame, totals], ignore_index=True))
    return labelled[[c.name for c in mart_board_performance.columns]]


def value_for_money(viewer: str = VIEWER) -> pd.DataFrame:
    rows = []
    for contract, spend in ((1, 120_000.0), (2, 45_000.0)):
        reference, title, provider = CONTRACTS[contract]
        referrals = float(sum(a or 0 for a in FIGURES[(contract, "REF-RECEIVED")][1]))
        completions = float(sum(a or 0 for a in FIGURES[(contract, "CASES-CLOSED")][1]))
        positive = 20.0 if contract == 1 else 3.0  # the children's service: a small count
        rows.append(
            {
                **_viewer(viewer),
                "contract_id": contract,
                "contract_reference": reference,
                "contract_title": title,
                "provider_name": provider,
                "service_type": "IDVA/IDSVA",
                "financial_year": "2013/14",
                "spend": spend,
                "referrals": referrals,
                "completions": completions,
                "positive_outcomes": positive,
                "cost_per_referral": round(spend / referrals, 2),
                "cost_per_completion": round(spend / completions, 2),
                "cost_per_positive_outcome": round(spend / positive, 2),
                "referrals_display": f"{referrals:,.0f}",
                "completions_display": f"{completions:,.0f}",
                "positive_outcomes_display": f"{positive:,.0f}",
            }
        )
    return _value_for_money_labels(pd.DataFrame(rows))[[c.name for c in mart_value_for_money.columns]]


def outcomes(viewer: str = VIEWER) -> pd.DataFrame:
    rows = []
    for index, (cases, improved) in enumerate([(12, 7), (2, 1), (9, 5), (11, 6)]):
        rows.append(
            {
                **_viewer(viewer),
                "contract_id": 2,
                "contract_title": CONTRACTS[2][1],
                "provider_name": CONTRACTS[2][2],
                "period_key": QUARTERS[index],
                "period_label": f"Q{index + 1} 2013/14",
                "period_sort": index + 1,
                "measure": "SDQ",
                "informant": "parent",
                "paired_cases": cases,
                "paired_cases_display": str(cases),
                "mean_change": -3.5,
                "improved_pct": round(improved / cases * 100, 1),
                "improved_display": f"{improved / cases * 100:.1f}%",
                "small_sample": True,
            }
        )
    return _outcome_labels(pd.DataFrame(rows))[[c.name for c in mart_outcomes.columns]]


def funding(viewer: str = VIEWER) -> pd.DataFrame:
    lines = [
        ("2013/14", "Borough Council", 1, 80_000.0),
        ("2013/14", "Police and Crime Commissioner", 1, 40_000.0),
        ("2013/14", "Borough Council", 2, 45_000.0),
        ("2014/15", "Borough Council", 1, 82_000.0),
        ("2014/15", "Clinical Commissioning Group", 2, 46_000.0),
    ]
    frame = pd.DataFrame(
        [
            {
                **_viewer(viewer),
                "financial_year": year,
                "funder_name": funder,
                "funding_stream": "Core",
                "category": "core",
                "service_type": "IDVA/IDSVA",
                "contract_id": contract,
                "contract_title": CONTRACTS[contract][1],
                "amount": amount,
            }
            for year, funder, contract, amount in lines
        ]
    )
    frame["category_label"] = labels.words(frame["category"])
    frame["service_type_label"] = labels.words(frame["service_type"])
    return frame[[c.name for c in mart_funding.columns]]


def renewals(viewer: str = VIEWER) -> pd.DataFrame:
    rows = [
        # contract, status, start, end, max extent, notice, decision by, options left
        (
            1,
            "live",
            date(2012, 4, 1),
            date(2015, 3, 31),
            date(2016, 3, 31),
            date(2014, 9, 30),
            date(2014, 7, 31),
            1,
        ),
        (
            2,
            "extended",
            date(2013, 4, 1),
            date(2014, 9, 30),
            date(2014, 9, 30),
            date(2014, 6, 30),
            date(2014, 4, 30),
            0,
        ),
    ]
    frame = pd.DataFrame(
        [
            {
                **_viewer(viewer),
                "contract_id": contract,
                "contract_reference": CONTRACTS[contract][0],
                "contract_title": CONTRACTS[contract][1],
                "provider_name": CONTRACTS[contract][2],
                "service_type": "IDVA/IDSVA",
                "status": status,
                "start_date": start,
                "end_date": end,
                "max_extent_date": extent,
                "notice_date": notice,
                "decision_by_date": decision,
                "reprocurement_start_date": date(2014, 6, 30),
                "days_to_end": (end - AS_AT).days,
                "days_to_notice": (notice - AS_AT).days,
                "options_remaining": options,
                "annual_value": 120_000.0 if contract == 1 else 45_000.0,
                "as_at": AS_AT,
            }
            for contract, status, start, end, extent, notice, decision, options in rows
        ]
    )
    # Labelled as the warehouse labels them.
    return _renewal_labels(frame)[[c.name for c in mart_renewals.columns]]


def periods() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "period_key": key,
                "financial_year": "2013/14",
                "quarter": index + 1,
                "start_date": STARTS[index],
                "end_date": ENDS[index],
                "label": f"Q{index + 1} 2013/14 ({MONTHS[index]})",
                "short_label": f"Q{index + 1} 2013/14",
                "sort_order": index + 1,
            }
            for index, key in enumerate(QUARTERS)
        ]
    )[[c.name for c in dim_period.columns]]


def kpis() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "kpi_id": i,
                "code": code,
                "name": name,
                "unit": unit,
                "direction": direction,
                "category": category,
                "rollup": "sum",
            }
            for i, (code, (name, unit, direction, category)) in enumerate(KPIS.items(), start=1)
        ]
    )[[c.name for c in dim_kpi.columns]]


def cohorts() -> pd.DataFrame:
    """contract_id, cohort: what monitor.reports.pack_data.read_cohorts returns."""
    return pd.DataFrame(
        [(contract, cohort) for contract, served in COHORTS.items() for cohort in served],
        columns=["contract_id", "cohort"],
    )


def marts(viewer: str = VIEWER, with_unmet_need: bool = False) -> dict[str, pd.DataFrame]:
    """What monitor.reports.pack_data.read_marts returns, for one viewer."""
    return {
        "mart_board_performance": performance(viewer, with_unmet_need),
        "mart_value_for_money": value_for_money(viewer),
        "mart_outcomes": outcomes(viewer),
        "mart_funding": funding(viewer),
        "mart_renewals": renewals(viewer),
        "mart_provision": pd.DataFrame(),
        # A commissioner's own rows, as the ETL builds them (unsuppressed):
        # the pack works a commissioner's out again after suppression.
        "mart_unmet_need": unmet_need(performance(viewer, with_unmet_need), cohorts(), threshold=4),
        "dim_period": periods(),
        "dim_kpi": kpis(),
    }
