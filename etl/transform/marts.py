"""The marts the dashboards and the board pack read, one set of rows per viewer.

Commissioners' rows (`organisation:<id>`) are their own contracts as they
are; boards' rows (`partnership:<id>`) go through disclosure control.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from etl.schema import (
    mart_board_parts,
    mart_board_performance,
    mart_funding,
    mart_outcomes,
    mart_provision,
    mart_renewals,
    mart_unmet_need,
    mart_value_for_money,
)
from etl.transform import labels
from etl.transform.performance import procurement_ratings
from etl.transform.unmet_need import unmet_need
from monitor.contracts.models import Cohort
from monitor.contracts.renewal import Status
from monitor.disclosure.suppression import (
    CONFIDENTIAL,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    POSITIVE_OUTCOME_PARTS,
    VFM_PARTS,
    VFM_RATIOS,
    display_column,
    suppress_marts,
)
from monitor.kpis.performance.rag import ProcurementRating, Rag
from monitor.kpis.performance.targets import days_in_force_between
from monitor.kpis.periods import Quarter

LIVE_STATUSES = {Status.LIVE.value, Status.EXTENDED.value, Status.IN_NOTICE.value}
VIEWER = ["viewer", "viewer_kind", "viewer_name"]


@dataclass
class Facts:
    """What the marts are built from: the current contracts and the facts of
    every contract any of the viewers being built can see."""

    contracts: pd.DataFrame  # dim_contract, current versions
    viewers: pd.DataFrame  # bridge_contract_viewer
    kpis: pd.DataFrame  # dim_kpi
    periods: pd.DataFrame  # dim_period
    organisations: pd.DataFrame  # dim_organisation
    kpi_results: pd.DataFrame
    funding: pd.DataFrame
    outcomes: pd.DataFrame
    renewals: pd.DataFrame  # per contract, as at the run's date
    cohorts: pd.DataFrame  # contract_id, cohort
    as_at: date


def _columns(table: object) -> list[str]:
    return [c.name for c in table.columns]  # type: ignore[attr-defined]


def _contract_labels(facts: Facts) -> pd.DataFrame:
    return _labels(facts.contracts)


def _labels(contracts: pd.DataFrame) -> pd.DataFrame:
    return contracts[
        ["contract_id", "reference", "title", "provider_name", "service_type", "category"]
    ].rename(columns={"reference": "contract_reference", "title": "contract_title"})


def build_marts(facts: Facts, threshold: int, small_sample: int) -> dict[str, pd.DataFrame]:
    performance = _performance(facts)
    value_for_money = _value_for_money(facts)
    outcomes = _outcomes(facts, small_sample)
    board = {
        name: frame[frame["viewer_kind"].eq("board")]
        for name, frame in (("performance", performance), ("vfm", value_for_money), ("outcomes", outcomes))
    }
    suppressed = suppress_marts(board["performance"], board["vfm"], board["outcomes"], threshold)
    own = [
        frame[frame["viewer_kind"].eq("commissioner")] for frame in (performance, value_for_money, outcomes)
    ]
    board_performance = _performance_labels(pd.concat([own[0], suppressed[0]], ignore_index=True))
    return {
        mart_board_performance.name: board_performance[_columns(mart_board_performance)],
        mart_board_parts.name: board_parts(board_performance, threshold),
        # From the board's suppressed rows, so a cohort figure hides what they hide.
        mart_unmet_need.name: unmet_need(board_performance, facts.cohorts, threshold)[
            _columns(mart_unmet_need)
        ],
        mart_value_for_money.name: _value_for_money_labels(
            pd.concat([own[1], suppressed[1]], ignore_index=True)
        )[_columns(mart_value_for_money)],
        mart_outcomes.name: _outcome_labels(
            pd.concat([own[2].drop(columns="improved_cases"), suppressed[2]], ignore_index=True)
        )[_columns(mart_outcomes)],
        **dated_marts(facts.renewals, facts.contracts, facts.viewers, facts.cohorts, facts.as_at),
        mart_funding.name: _funding(facts),
    }


def dated_marts(
    renewals: pd.DataFrame,
    contracts: pd.DataFrame,
    viewers: pd.DataFrame,
    cohorts: pd.DataFrame,
    as_at: date,
) -> dict[str, pd.DataFrame]:
    """The marts that depend on the as-at date, and only on the contracts'
    current versions, who sees them, their cohorts and their renewal dates
    as at that date: a full run and a roll of the date both build them here.
    `contracts` is dim_contract's current versions."""
    return {
        mart_renewals.name: _renewals(renewals, contracts, viewers),
        mart_provision.name: _provision(renewals, contracts, viewers, cohorts, as_at),
    }


def _performance(facts: Facts) -> pd.DataFrame:
    kpis = facts.kpis[["kpi_id", "code", "name", "unit"]].rename(
        columns={"code": "kpi_code", "name": "kpi_name"}
    )
    periods = facts.periods[["period_key", "short_label", "financial_year", "sort_order"]].rename(
        columns={"short_label": "period_label", "sort_order": "period_sort"}
    )
    rows = (
        facts.kpi_results.merge(kpis, on="kpi_id")
        .merge(_contract_labels(facts), on="contract_id")
        .merge(periods, on="period_key")
        .merge(facts.viewers, on="contract_id")
    )
    rows["scope"] = "service"
    rows["rating"] = procurement_ratings(rows) if len(rows) else pd.Series(dtype=object)
    counts = rows[rows["unit"].eq("count")]
    keys = [
        *VIEWER,
        "kpi_code",
        "kpi_name",
        "unit",
        "breakdown",
        "period_key",
        "period_label",
        "financial_year",
        "period_sort",
    ]
    totals = counts.groupby(keys, as_index=False, dropna=False).agg(
        actual=("actual", lambda s: s.sum(min_count=1))
    )
    totals = totals.assign(
        scope="all services",
        contract_id=np.nan,
        contract_reference="",
        contract_title="All services",
        provider_name="",
        service_type="",
        target=np.nan,
        variance_pct=np.nan,
        numerator=np.nan,
        denominator=np.nan,
        rag=Rag.NONE.value,
        rating=ProcurementRating.OTHER.value,
    )
    frame = pd.concat([rows, totals], ignore_index=True)
    frame["contract_id"] = frame["contract_id"].astype("Int64")
    frame["actual_display"] = display_column(
        frame["actual"], frame["unit"], pd.Series(False, index=frame.index)
    )
    frame["marker"] = np.where(frame["actual"].isna(), "[x]", "")
    return frame


def _annual_sum(results: pd.DataFrame, codes: tuple[str, ...], column: str = "actual") -> pd.DataFrame:
    chosen = results[results["kpi_code"].isin(codes) & results["breakdown"].eq("")]
    return chosen.groupby(["contract_id", "financial_year"])[column].sum(min_count=1)


def _days_compared(results: pd.DataFrame, spend_index: pd.MultiIndex) -> pd.DataFrame:
    """Per contract and financial year: the days the contract was in force
    that year (`year_days`) and those of them covered by a reported quarter
    (`compared_days`: each quarter with accepted figures counts its days in
    force, so DV-001's January to March 2014 counts 31)."""
    reported = results.drop_duplicates(["contract_id", "period_key"])
    compared = reported.groupby(["contract_id", "financial_year"])["days_in_force"].sum()
    spans = reported.drop_duplicates("contract_id").set_index("contract_id")
    pairs = spend_index.union(compared.index) if len(compared) else spend_index
    rows = []
    for contract_id, year in pairs:
        fy_start = int(str(year)[:4])
        first, last = Quarter(fy_start, 1).start, Quarter(fy_start, 4).end
        year_days = np.nan
        if contract_id in spans.index and pd.notna(spans.loc[contract_id, "contract_start"]):
            year_days = days_in_force_between(
                first,
                last,
                pd.Timestamp(spans.loc[contract_id, "contract_start"]).date(),
                pd.Timestamp(spans.loc[contract_id, "contract_last_day"]).date(),
            )
        rows.append((contract_id, year, year_days, compared.get((contract_id, year), 0.0)))
    frame = pd.DataFrame(rows, columns=["contract_id", "financial_year", "year_days", "compared_days"])
    return frame.set_index(["contract_id", "financial_year"])


def _value_for_money(facts: Facts) -> pd.DataFrame:
    """Spend and activity per contract and financial year, and the cost of
    each referral, completion and positive outcome.

    Money and activity are compared over the same days. `spend` is the
    year's funding, paid for the days the contract was in force that year;
    the ratios divide only the share of it for the days the reported
    quarters cover (`compared_spend` = spend x compared days / days in force
    that year) by the activity those quarters report. DV-001 (ended 31
    January 2014) with April to December 2013 reported counts 275 of its 306
    days' money against nine months' referrals, not the year's money; with
    January reported too, all of it. The rule assumes money is spent evenly
    over the days in force, the one assumption a yearly funding line allows.
    """
    kpis = facts.kpis[["kpi_id", "code"]].rename(columns={"code": "kpi_code"})
    years = facts.periods[["period_key", "financial_year"]]
    results = facts.kpi_results.merge(kpis, on="kpi_id").merge(years, on="period_key")
    spend = facts.funding.groupby(["contract_id", "financial_year"])["amount"].sum()
    measures = {measure: _annual_sum(results, codes) for measure, codes in VFM_PARTS.items()}
    feel_safer = _annual_sum(results, POSITIVE_OUTCOME_PARTS, "numerator")
    improved = (
        facts.outcomes.merge(years, on="period_key")
        .groupby(["contract_id", "financial_year"])["improved_cases"]
        .sum()
    )
    measures["positive_outcomes"] = (
        feel_safer.add(improved.astype(float), fill_value=0) if len(improved) else feel_safer
    )
    frame = pd.DataFrame({"spend": spend.astype(float), **measures})
    frame.index.names = ["contract_id", "financial_year"]
    frame = frame.join(_days_compared(results, frame.index), how="left")
    frame = frame.reset_index()
    frame["spend"] = frame["spend"].fillna(0.0)
    share = (frame["compared_days"] / frame["year_days"].where(frame["year_days"] > 0)).clip(upper=1.0)
    frame["compared_spend"] = frame["spend"] * share.fillna(0.0)
    for measure, ratio in (
        ("referrals", "cost_per_referral"),
        ("completions", "cost_per_completion"),
        ("positive_outcomes", "cost_per_positive_outcome"),
    ):
        per = frame["compared_spend"] / frame[measure].where(frame[measure] > 0)
        frame[ratio] = per.where(frame["compared_spend"] > 0).round(2)
        frame[f"{measure}_display"] = display_column(
            frame[measure], "count", pd.Series(False, index=frame.index)
        )
    return frame.merge(_contract_labels(facts), on="contract_id").merge(facts.viewers, on="contract_id")


def _outcomes(facts: Facts, small_sample: int) -> pd.DataFrame:
    periods = facts.periods[["period_key", "short_label", "sort_order"]].rename(
        columns={"short_label": "period_label", "sort_order": "period_sort"}
    )
    frame = facts.outcomes.merge(_contract_labels(facts), on="contract_id").merge(periods, on="period_key")
    frame["improved_pct"] = (frame["improved_cases"] / frame["paired_cases"] * 100).round(1)
    frame["small_sample"] = frame["paired_cases"] < small_sample
    hidden = pd.Series(False, index=frame.index)
    frame["paired_cases_display"] = display_column(frame["paired_cases"].astype(float), "count", hidden)
    frame["improved_display"] = display_column(frame["improved_pct"], "percentage", hidden)
    return frame.merge(facts.viewers, on="contract_id")


def _renewals(renewals: pd.DataFrame, contracts: pd.DataFrame, viewers: pd.DataFrame) -> pd.DataFrame:
    names = _labels(contracts).drop(columns="category")
    frame = renewals.merge(names, on="contract_id").merge(viewers, on="contract_id")
    return _renewal_labels(frame)[_columns(mart_renewals)]


def _renewal_labels(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["service_type_label"] = labels.words(frame["service_type"])
    frame["status_label"] = labels.words(frame["status"])
    for column, label in (
        ("start_date", "start_date_label"),
        ("end_date", "end_date_label"),
        ("max_extent_date", "max_extent_label"),
        ("notice_date", "notice_date_label"),
        ("decision_by_date", "decision_by_label"),
        ("as_at", "as_at_label"),
    ):
        frame[label] = labels.days(frame[column])
    frame["annual_value_display"] = labels.money(frame["annual_value"])
    return frame


def _funding(facts: Facts) -> pd.DataFrame:
    funders = facts.organisations[["organisation_id", "name"]].rename(
        columns={"organisation_id": "funder_id", "name": "funder_name"}
    )
    frame = (
        facts.funding.merge(funders, on="funder_id")
        .merge(_contract_labels(facts), on="contract_id")
        .merge(facts.viewers, on="contract_id")
    )
    frame["category_label"] = labels.words(frame["category"])
    frame["service_type_label"] = labels.words(frame["service_type"])
    return frame[_columns(mart_funding)]


def _provision(
    renewals: pd.DataFrame,
    contracts: pd.DataFrame,
    viewers: pd.DataFrame,
    cohorts: pd.DataFrame,
    as_at: date,
) -> pd.DataFrame:
    """Live services by cohort, category and service type for each viewer, and
    a gap row for each cohort no live service reaches."""
    live = renewals[renewals["status"].isin(LIVE_STATUSES)][["contract_id", "annual_value", "as_at"]]
    reach = (
        live.merge(cohorts, on="contract_id")
        .merge(contracts[["contract_id", "category", "service_type"]], on="contract_id")
        .merge(viewers, on="contract_id")
    )
    served = reach.groupby([*VIEWER, "cohort", "category", "service_type"], as_index=False).agg(
        live_contracts=("contract_id", "nunique"), annual_spend=("annual_value", "sum")
    )
    served["gap"] = False
    everyone = viewers[VIEWER].drop_duplicates()
    every_cohort = pd.DataFrame({"cohort": [c.value for c in Cohort]})
    pairs = everyone.merge(every_cohort, how="cross")
    reached = served[[*VIEWER, "cohort"]].drop_duplicates().assign(reached=True)
    gaps = pairs.merge(reached, on=[*VIEWER, "cohort"], how="left")
    gaps = gaps[gaps["reached"].isna()].drop(columns="reached")
    gaps = gaps.assign(category="", service_type="", live_contracts=0, annual_spend=0.0, gap=True)
    frame = pd.concat([served, gaps], ignore_index=True)
    frame["as_at"] = as_at
    frame["cohort_label"] = labels.words(frame["cohort"])
    frame["category_label"] = labels.words(frame["category"])
    frame["service_type_label"] = labels.words(frame["service_type"])
    frame["as_at_label"] = labels.days(frame["as_at"])
    return frame[_columns(mart_provision)]


def _performance_labels(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["period_label"] = labels.quarters(frame["period_key"])
    frame["service_type_label"] = labels.words(frame["service_type"])
    frame["target_display"] = labels.figures(frame["target"], frame["unit"], NOT_APPLICABLE)
    frame["rag_label"] = labels.rag_text(frame["rag"], frame["actual_display"])
    return frame


def _value_for_money_labels(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["service_type_label"] = labels.words(frame["service_type"])
    frame["spend_display"] = labels.money(frame["spend"])
    for measure, ratio in VFM_RATIOS.items():
        # No cost where its count is hidden ([c]), zero ([z]: nothing to
        # divide by) or not reported ([x]).
        why = np.where(
            frame[f"{measure}_display"].eq(CONFIDENTIAL),
            CONFIDENTIAL,
            np.where(frame[measure].eq(0), NOT_APPLICABLE, NOT_AVAILABLE),
        )
        frame[f"{ratio}_display"] = labels.figures(
            frame[ratio], "currency", pd.Series(why, index=frame.index)
        )
    return frame


def _outcome_labels(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["period_label"] = labels.quarters(frame["period_key"])
    why = np.where(frame["paired_cases_display"].eq(CONFIDENTIAL), CONFIDENTIAL, NOT_AVAILABLE)
    frame["mean_change_display"] = labels.figures(
        frame["mean_change"], "score", pd.Series(why, index=frame.index)
    )
    frame["small_sample_label"] = labels.small_samples(frame["small_sample"])
    return frame


def board_parts(performance: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Every all-services count that is broken down, its parts as the
    viewer sees them, and a "Not shown" part: the total less the parts shown
    (hidden or unreported parts). The reader can already work that out from
    the total and the parts, so it gives nothing away that the disclosure
    control has not allowed; on a board's rows it is still hidden as [c]
    when it alone is a small count."""
    counts = performance[performance["scope"].eq("all services") & performance["unit"].eq("count")]
    keys = [*VIEWER, "kpi_code", "kpi_name", "period_key", "period_label", "period_sort"]
    rows: list[dict[str, object]] = []
    for key, group in counts.groupby(keys, sort=False, dropna=False):
        parts = group[~group["breakdown"].eq("")].sort_values("breakdown")
        totals = group[group["breakdown"].eq("")]
        if parts.empty or totals.empty:
            continue
        total = totals.iloc[0]
        base = {
            **dict(zip(keys, key, strict=True)),
            "total": total["actual"],
            "total_display": total["actual_display"],
        }
        for number, part in enumerate(parts.itertuples(), start=1):
            rows.append(
                {
                    **base,
                    "part": part.breakdown,
                    "part_sort": number,
                    "actual": part.actual,
                    "actual_display": part.actual_display,
                }
            )
        rest = labels.not_shown(
            total["actual"],
            parts["actual"].sum(min_count=1) if parts["actual"].notna().any() else 0.0,
            threshold,
            suppressed=total["viewer_kind"] == "board",
        )
        if rest is not None:
            rows.append(
                {
                    **base,
                    "part": labels.NOT_SHOWN,
                    "part_sort": len(parts) + 1,
                    "actual": rest[0],
                    "actual_display": rest[1],
                }
            )
    return pd.DataFrame(rows, columns=_columns(mart_board_parts))
