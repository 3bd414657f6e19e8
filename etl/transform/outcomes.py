"""Outcome measures: paired pre/post scores summed up per contract, quarter,
measure and informant (the warehouse keeps no single person's scores)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pandas as pd

from monitor.kpis.performance.outcomes import swemwbs_metric
from monitor.kpis.vocabulary import OutcomeMeasure

COLUMNS = [
    "contract_id",
    "period_key",
    "measure",
    "informant",
    "paired_cases",
    "mean_pre",
    "mean_post",
    "mean_change",
    "improved_cases",
]


def outcome_facts(scores: pd.DataFrame, improvement: Mapping[str, float]) -> pd.DataFrame:
    """`improvement` is the change that counts as an improvement per measure
    (SDQ: a fall of at least the reliable change; WEMWBS and SWEMWBS: a rise).
    SWEMWBS raw scores become metric scores before any arithmetic."""
    if scores.empty:
        return pd.DataFrame(columns=COLUMNS)
    frame = scores.copy()
    frame["informant"] = frame["informant"].fillna("")
    pre = frame["pre_score"].astype(float)
    post = frame["post_score"].astype(float)
    swemwbs = frame["measure"].eq(OutcomeMeasure.SWEMWBS.value)
    if swemwbs.any():
        raw_scores = pd.concat([pre[swemwbs], post[swemwbs]]).unique()
        to_metric = {raw: float(swemwbs_metric(Decimal(str(raw)))) for raw in raw_scores}
        pre = pre.where(~swemwbs, pre.map(to_metric))
        post = post.where(~swemwbs, post.map(to_metric))
    change = post - pre
    threshold = frame["measure"].map(improvement).astype(float)
    falls = frame["measure"].eq(OutcomeMeasure.SDQ.value)
    improved = (-change).where(falls, change) >= threshold
    frame = frame.assign(pre=pre, post=post, change=change, improved=improved.astype(int))
    grouped = frame.groupby(["contract_id", "period_key", "measure", "informant"], as_index=False).agg(
        paired_cases=("pre", "size"),
        mean_pre=("pre", "mean"),
        mean_post=("post", "mean"),
        mean_change=("change", "mean"),
        improved_cases=("improved", "sum"),
    )
    for column in ("mean_pre", "mean_post", "mean_change"):
        grouped[column] = grouped[column].round(2)
    return grouped[COLUMNS]
