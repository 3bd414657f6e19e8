"""One dataset per warehouse mart, with the metrics the charts use.

Columns come from etl/schema.py. Metric SQL must run on SQLite and
PostgreSQL alike. Every mart has `viewer`: the guest token's row-level
security rule filters on it, so no metric may reach rows another way.
"""

from etl.transform.labels import RAG_ORDER
from monitor.kpis.performance.rag import Rag
from monitor.superset.spec import Dataset, Metric

VIEWER_LABELS = {"viewer_name": "Viewing as", "viewer_kind": "Viewer kind"}
CONTRACT_LABELS = {
    "contract_reference": "Reference",
    "contract_title": "Service",
    "provider_name": "Provider",
    "service_type": "Service type (key)",
    "service_type_label": "Service type",
    "financial_year": "Financial year",
}


RAG_MEANINGS = {
    Rag.RED: "Beyond tolerance",
    Rag.AMBER: "Within tolerance of target",
    Rag.GREEN: "At or better than target",
}


def _count_where(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


PERFORMANCE = Dataset(
    "mart_board_performance",
    "KPI results per service and quarter against the performance framework. Board rows "
    "show small counts as [c].",
    metrics=(
        Metric("results", "COUNT(*)", "KPI results"),
        # Labelled as the performance pages tag them ("Red: off target"), in
        # the order they are listed everywhere: Red, Amber, Green.
        *(
            Metric(rag.value, _count_where(f"rag = '{rag.value}'"), rag.text, description=RAG_MEANINGS[rag])
            for rag in RAG_ORDER
        ),
        Metric("suppressed", _count_where("rag = '[c]'"), "Suppressed [c]"),
        Metric("total_actual", "SUM(actual)", "Actual", ",.0f"),
        # Only where the actual is shown, so a hidden figure's target does
        # not make the shown total look short of target.
        Metric("total_target", "SUM(CASE WHEN actual IS NOT NULL THEN target END)", "Target", ",.0f"),
    ),
    labels={
        **VIEWER_LABELS,
        **CONTRACT_LABELS,
        "kpi_code": "KPI code",
        "kpi_name": "KPI",
        "breakdown": "Breakdown",
        "period_key": "Quarter (key)",
        "period_label": "Quarter",
        "period_sort": "Quarter (order)",
        "actual": "Actual (number)",
        "actual_display": "Actual",
        "target": "Target (number)",
        "target_display": "Target",
        "variance_pct": "Variance (%)",
        "rag": "RAG (key)",
        "rag_label": "RAG",
        "rating": "Performance rating",
        "marker": "Marker",
    },
)

RENEWALS = Dataset(
    "mart_renewals",
    "Each contract's end, notice, decision and re-procurement dates as at the last ETL run.",
    metrics=(
        Metric("contracts", "COUNT(*)", "Contracts"),
        Metric(
            "notice_within_6_months",
            _count_where("days_to_notice >= 0 AND days_to_notice <= 183"),
            "Notice date within 6 months",
        ),
        Metric(
            "ending_within_12_months",
            _count_where("days_to_end >= 0 AND days_to_end <= 365"),
            "Ending within 12 months",
        ),
        Metric("annual_value", "SUM(annual_value)", "Annual value (£)", ",.0f"),
    ),
    labels={
        **VIEWER_LABELS,
        **CONTRACT_LABELS,
        "status": "Status (key)",
        "status_label": "Status",
        "start_date": "Start (date)",
        "start_date_label": "Start",
        "end_date": "Ends (date)",
        "end_date_label": "Ends",
        "max_extent_date": "Latest end with options (date)",
        "max_extent_label": "Latest end with options",
        "notice_date": "Last notice date (date)",
        "notice_date_label": "Last notice date",
        "decision_by_date": "Decide by (date)",
        "decision_by_label": "Decide by",
        "reprocurement_start_date": "Re-procure from",
        "days_to_end": "Days to end",
        "days_to_notice": "Days to notice date",
        "options_remaining": "Extension options left",
        "annual_value": "Annual value (£)",
        "annual_value_display": "Annual value",
        "as_at": "As at (date)",
        "as_at_label": "As at",
    },
)

FUNDING = Dataset(
    "mart_funding",
    "Funding by funder, stream, category, service and financial year.",
    metrics=(Metric("funding", "SUM(amount)", "Funding (£)", ",.0f"),),
    labels={
        **VIEWER_LABELS,
        **CONTRACT_LABELS,
        "funder_name": "Funder",
        "funding_stream": "Funding stream",
        "category": "Category (key)",
        "category_label": "Category",
        "amount": "Amount (£)",
    },
)


def _cost_per(count: str) -> str:
    # Spend only where the count is known: a suppressed or missing count
    # must not make the cost per case look lower.
    return f"SUM(CASE WHEN {count} IS NOT NULL THEN spend END) * 1.0 / NULLIF(SUM({count}), 0)"


VALUE_FOR_MONEY = Dataset(
    "mart_value_for_money",
    "Spend per service and financial year against referrals, completions and positive outcomes.",
    metrics=(
        Metric("spend", "SUM(spend)", "Spend (£)", ",.0f"),
        Metric("cost_per_referral", _cost_per("referrals"), "Cost per referral (£)", ",.0f"),
        Metric("cost_per_completion", _cost_per("completions"), "Cost per completion (£)", ",.0f"),
        Metric(
            "cost_per_positive_outcome",
            _cost_per("positive_outcomes"),
            "Cost per positive outcome (£)",
            ",.0f",
        ),
    ),
    labels={
        **VIEWER_LABELS,
        **CONTRACT_LABELS,
        "spend": "Spend (£)",
        "referrals_display": "Referrals",
        "completions_display": "Completions",
        "positive_outcomes_display": "Positive outcomes",
        "cost_per_referral": "Cost per referral (£)",
        "cost_per_completion": "Cost per completion (£)",
        "cost_per_positive_outcome": "Cost per positive outcome (£)",
        "spend_display": "Spend",
        "cost_per_referral_display": "Cost per referral",
        "cost_per_completion_display": "Cost per completion",
        "cost_per_positive_outcome_display": "Cost per positive outcome",
    },
)

OUTCOMES = Dataset(
    "mart_outcomes",
    "Paired outcome measures (SDQ, WEMWBS, SWEMWBS) per service and quarter.",
    metrics=(
        Metric("paired_cases", "SUM(paired_cases)", "Paired cases", ",.0f"),
        Metric("mean_change", "AVG(mean_change)", "Mean change in score", ",.1f"),
        Metric("improved_pct", "AVG(improved_pct)", "Improved (%)", ",.1f"),
    ),
    labels={
        **VIEWER_LABELS,
        **CONTRACT_LABELS,
        "period_key": "Quarter (key)",
        "period_label": "Quarter",
        "measure": "Measure",
        "informant": "Informant",
        "paired_cases_display": "Paired cases",
        "mean_change": "Mean change (number)",
        "mean_change_display": "Mean change",
        "improved_display": "Improved",
        "small_sample": "Small sample (flag)",
        "small_sample_label": "Small sample (under 30)",
    },
)

PROVISION = Dataset(
    "mart_provision",
    "Live services by cohort, category and service type; a gap row for each cohort with none.",
    metrics=(
        Metric("live_contracts", "SUM(live_contracts)", "Live services", ",.0f"),
        Metric("annual_spend", "SUM(annual_spend)", "Annual spend (£)", ",.0f"),
        Metric("gaps", "SUM(CASE WHEN gap THEN 1 ELSE 0 END)", "Cohorts with no live service"),
    ),
    labels={
        **VIEWER_LABELS,
        "cohort": "Cohort (key)",
        "cohort_label": "Cohort",
        "category": "Category (key)",
        "category_label": "Category",
        "service_type": "Service type (key)",
        "service_type_label": "Service type",
        "live_contracts": "Live services",
        "annual_spend": "Annual spend (£)",
        "gap": "No live service",
        "as_at": "As at (date)",
        "as_at_label": "As at",
    },
)

UNMET_NEED = Dataset(
    "mart_unmet_need",
    "Unmet need by cohort and quarter: referrals not taken by reason, people waiting at the "
    "quarter's end, and children whose support was asked for and who got it. A service for several "
    "cohorts counts in each. On board rows a cohort's figure is [c] when any service figure in it is.",
    metrics=(Metric("total_value", "SUM(value)", "Number", ",.0f"),),
    labels={
        **VIEWER_LABELS,
        "cohort": "Cohort (key)",
        "cohort_label": "Cohort",
        "period_key": "Quarter (key)",
        "period_label": "Quarter",
        "period_sort": "Quarter (order)",
        "financial_year": "Financial year",
        "measure": "Measure (key)",
        "measure_label": "Measure",
        "measure_sort": "Measure (order)",
        "unit": "Unit",
        "part": "Reason (key)",
        "part_label": "Reason",
        "part_sort": "Reason (order)",
        "value": "Figure (number)",
        "value_display": "Figure",
        "services_reporting": "Services reporting",
        "latest_quarter": "Latest quarter",
    },
)

PARTS = Dataset(
    "mart_board_parts",
    "The parts of each all-services figure that is broken down (referrals by source), with a "
    '"Not shown" part for what the parts shown leave out, so the parts add up to the total.',
    metrics=(Metric("total_actual", "SUM(actual)", "Count", ",.0f"),),
    labels={
        **VIEWER_LABELS,
        "kpi_code": "KPI code",
        "kpi_name": "KPI",
        "period_key": "Quarter (key)",
        "period_label": "Quarter",
        "period_sort": "Quarter (order)",
        "part": "Part",
        "part_sort": "Part (order)",
        "actual": "Count (number)",
        "actual_display": "Count",
        "total": "Total (number)",
        "total_display": "Total",
    },
)

# "How we compare": each opted-in area's KPIs against its
# comparison groups, and the funnel plot's limits (row_kind "limit").
COMPARISON = Dataset(
    "mart_comparison",
    "Each area's yearly KPI figures against its comparison groups (all areas, its region, "
    "similar areas): 95% and 99.8% intervals, the group's pooled proportion or median, quartiles "
    "and a label only where the interval supports one, with the method beside it. Areas that have "
    "not opted in are in no row. Small counts are [c] for every viewer, as on board rows.",
    metrics=(
        Metric("this_area", "AVG(CASE WHEN is_viewer_area THEN value END)", "This area", ",.1f"),
        Metric(
            "other_areas",
            "AVG(CASE WHEN row_kind = 'area' AND NOT is_viewer_area THEN value END)",
            "Other areas",
            ",.1f",
        ),
        Metric("group_value", "AVG(comparator)", "Group's proportion", ",.1f"),
        Metric("limit_95_lower", "AVG(limit_95_lower)", "95% lower limit", ",.1f"),
        Metric("limit_95_upper", "AVG(limit_95_upper)", "95% upper limit", ",.1f"),
        Metric("limit_99_8_lower", "AVG(limit_99_8_lower)", "99.8% lower limit", ",.1f"),
        Metric("limit_99_8_upper", "AVG(limit_99_8_upper)", "99.8% upper limit", ",.1f"),
    ),
    labels={
        **VIEWER_LABELS,
        "viewer_area_name": "Area",
        "group_name": "Compared with",
        "group_kind": "Group kind",
        "group_sort": "Group (order)",
        "group_members": "Areas in the group",
        "kpi_code": "KPI code",
        "kpi_name": "KPI",
        "financial_year": "Financial year",
        "area_name": "Area compared",
        "value_display": "Figure",
        "trials": "Cases (denominator)",
        "interval_display": "95% interval",
        "comparator_display": "Group's figure",
        "lower_quartile_display": "Lower quartile",
        "median_display": "Median",
        "upper_quartile_display": "Upper quartile",
        "label": "Compared with the group",
        "note": "Method",
        "as_at": "As at (date)",
        "as_at_label": "As at",
    },
)
