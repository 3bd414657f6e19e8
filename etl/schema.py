"""The warehouse: a star schema of dimensions and facts, and the marts the
dashboards and the board pack read.

On PostgreSQL the tables live in the schema `warehouse` of the app database;
on SQLite in a file of their own. The tables are declared without a schema
and `warehouse_engine` maps them onto `warehouse` on PostgreSQL, so one
declaration serves both.

Every mart row carries `viewer`: who may see it. `organisation:<id>` rows
are a commissioner's own contracts, unsuppressed; `partnership:<id>` rows
are what a board sees, after disclosure control. Superset's row-level
security filters on this one column, so a guest token for one viewer can
never return another's rows.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

WAREHOUSE_SCHEMA = "warehouse"

metadata = MetaData()

Money = Numeric(14, 2)


def _viewer_columns() -> list[Column]:
    return [
        Column("viewer", String(40), nullable=False, index=True),
        # "commissioner" (own contracts, unsuppressed) or "board" (suppressed).
        Column("viewer_kind", String(20), nullable=False),
        Column("viewer_name", String(200), nullable=False),
    ]


# --- dimensions ------------------------------------------------------------

dim_period = Table(
    "dim_period",
    metadata,
    Column("period_key", String(10), primary_key=True),  # "2013-14-Q3"
    Column("financial_year", String(7), nullable=False),  # "2013/14"
    Column("quarter", Integer, nullable=False),  # 1..4
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("label", String(60), nullable=False),  # "Q3 2013/14 (October to December 2013)"
    Column("short_label", String(20), nullable=False),  # "Q3 2013/14"
    Column("sort_order", Integer, nullable=False),
)

dim_organisation = Table(
    "dim_organisation",
    metadata,
    Column("organisation_id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("charity_number", String(20)),
    Column("company_number", String(20)),
)

dim_kpi = Table(
    "dim_kpi",
    metadata,
    Column("kpi_id", Integer, primary_key=True),
    Column("code", String(30), nullable=False),
    Column("name", String(200), nullable=False),
    Column("unit", String(20), nullable=False),
    Column("direction", String(20), nullable=False),
    Column("category", String(20), nullable=False),
    Column("rollup", String(10), nullable=False),
)

# One row per version of a contract's terms: the award, then one per
# amendment that changed its end date or value. A past quarter joins to the
# version in force at the quarter's end, so a board view can be reproduced
# after an extension.
dim_contract = Table(
    "dim_contract",
    metadata,
    Column("contract_version_key", Integer, primary_key=True),  # contract_id * 1000 + version
    Column("contract_id", Integer, nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),  # exclusive; NULL for the current version
    Column("is_current", Boolean, nullable=False),
    Column("reference", String(40), nullable=False),
    Column("title", String(200), nullable=False),
    Column("service_type", String(40), nullable=False),
    Column("category", String(20), nullable=False),
    Column("agreement_type", String(20), nullable=False),
    Column("provider_id", Integer, nullable=False),
    Column("provider_name", String(200), nullable=False),
    Column("lead_commissioner_id", Integer, nullable=False),
    Column("lead_commissioner_name", String(200), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("annual_value", Money, nullable=False),
)

# Which viewers see which contract: each commissioner (lead or partner) and
# each partnership one of them belongs to.
bridge_contract_viewer = Table(
    "bridge_contract_viewer",
    metadata,
    Column("contract_id", Integer, primary_key=True),
    *[Column(c.name, c.type, primary_key=c.name == "viewer", nullable=False) for c in _viewer_columns()],
)

# --- facts -------------------------------------------------------------------

fact_kpi_result = Table(
    "fact_kpi_result",
    metadata,
    Column("contract_id", Integer, primary_key=True),
    Column("kpi_id", Integer, primary_key=True),
    Column("period_key", String(10), primary_key=True),
    Column("breakdown", String(100), primary_key=True),  # "" for the KPI's total
    Column("contract_version_key", Integer, nullable=False),
    Column("actual", Float),
    Column("target", Float),
    Column("variance", Float),
    Column("variance_pct", Float),
    Column("rag", String(10), nullable=False),  # green/amber/red/none
    Column("numerator", Float),
    Column("denominator", Float),
)

fact_funding = Table(
    "fact_funding",
    metadata,
    Column("contract_id", Integer, primary_key=True),
    Column("funder_id", Integer, primary_key=True),
    Column("funding_stream", String(120), primary_key=True),
    Column("financial_year", String(7), primary_key=True),
    Column("amount", Money, nullable=False),
)

fact_contract_snapshot = Table(
    "fact_contract_snapshot",
    metadata,
    Column("snapshot_month", Date, primary_key=True),  # first of the month
    Column("contract_id", Integer, primary_key=True),
    Column("contract_version_key", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("days_to_end", Integer, nullable=False),
    Column("days_to_notice", Integer, nullable=False),
)

fact_outcome = Table(
    "fact_outcome",
    metadata,
    Column("contract_id", Integer, primary_key=True),
    Column("period_key", String(10), primary_key=True),
    Column("measure", String(10), primary_key=True),
    Column("informant", String(10), primary_key=True),  # "" when the measure has none
    Column("paired_cases", Integer, nullable=False),
    Column("mean_pre", Float, nullable=False),
    Column("mean_post", Float, nullable=False),
    Column("mean_change", Float, nullable=False),
    Column("improved_cases", Integer, nullable=False),
)

# --- marts (board-facing; `viewer` is the row-level security key) ------------

mart_board_performance = Table(
    "mart_board_performance",
    metadata,
    *_viewer_columns(),
    Column("scope", String(20), nullable=False),  # "service" or "all services" (a total row)
    Column("contract_id", Integer),  # NULL on total rows
    Column("contract_reference", String(40), nullable=False),
    Column("contract_title", String(200), nullable=False),
    Column("provider_name", String(200), nullable=False),
    Column("service_type", String(40), nullable=False),
    Column("kpi_code", String(30), nullable=False),
    Column("kpi_name", String(200), nullable=False),
    Column("unit", String(20), nullable=False),
    Column("breakdown", String(100), nullable=False),
    Column("period_key", String(10), nullable=False),
    Column("period_label", String(20), nullable=False),
    Column("financial_year", String(7), nullable=False),
    Column("period_sort", Integer, nullable=False),
    Column("actual", Float),  # NULL when suppressed or not available
    Column("actual_display", String(30), nullable=False),  # the figure, or [c] / [x] / [z]
    Column("target", Float),
    Column("variance_pct", Float),
    # A percentage's parts, for commissioners ("of 23 referrals"); NULL on
    # board rows, where they would reveal what suppression hides.
    Column("numerator", Float),
    Column("denominator", Float),
    Column("rag", String(10), nullable=False),  # green/amber/red/none, or "[c]" when suppressed
    Column("rating", String(40), nullable=False),  # Procurement Act 2023 rating
    Column("marker", String(5), nullable=False),  # "", "[c]", "[x]" or "[z]"
    # Labels written by monitor.formatting (etl/transform/labels.py): what the
    # dashboards show, beside the keys they sort by.
    Column("service_type_label", String(40), nullable=False),  # "IDVA/IDSVA", "Refuge"; "[z]" on totals
    Column("target_display", String(30), nullable=False),  # "90.0%", or [z] with no target
    Column("rag_label", String(30), nullable=False),  # "Red: off target", or [c] / [x] / [z]
)

mart_value_for_money = Table(
    "mart_value_for_money",
    metadata,
    *_viewer_columns(),
    Column("contract_id", Integer, nullable=False),
    Column("contract_reference", String(40), nullable=False),
    Column("contract_title", String(200), nullable=False),
    Column("provider_name", String(200), nullable=False),
    Column("service_type", String(40), nullable=False),
    Column("financial_year", String(7), nullable=False),
    Column("spend", Money, nullable=False),
    Column("referrals", Float),
    Column("completions", Float),
    Column("positive_outcomes", Float),
    Column("cost_per_referral", Float),
    Column("cost_per_completion", Float),
    Column("cost_per_positive_outcome", Float),
    Column("referrals_display", String(30), nullable=False),
    Column("completions_display", String(30), nullable=False),
    Column("positive_outcomes_display", String(30), nullable=False),
    Column("service_type_label", String(40), nullable=False),
    Column("spend_display", String(30), nullable=False),  # £1,234
    # £1,234, or [c] (its count is hidden), [z] (no cases), [x] (not available)
    Column("cost_per_referral_display", String(30), nullable=False),
    Column("cost_per_completion_display", String(30), nullable=False),
    Column("cost_per_positive_outcome_display", String(30), nullable=False),
)

mart_renewals = Table(
    "mart_renewals",
    metadata,
    *_viewer_columns(),
    Column("contract_id", Integer, nullable=False),
    Column("contract_reference", String(40), nullable=False),
    Column("contract_title", String(200), nullable=False),
    Column("provider_name", String(200), nullable=False),
    Column("service_type", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("max_extent_date", Date, nullable=False),
    Column("notice_date", Date, nullable=False),
    Column("decision_by_date", Date, nullable=False),
    Column("reprocurement_start_date", Date, nullable=False),
    Column("days_to_end", Integer, nullable=False),
    Column("days_to_notice", Integer, nullable=False),
    Column("options_remaining", Integer, nullable=False),
    Column("annual_value", Money, nullable=False),
    Column("as_at", Date, nullable=False),
    Column("service_type_label", String(40), nullable=False),
    Column("status_label", String(30), nullable=False),  # "In notice"
    Column("start_date_label", String(30), nullable=False),  # "1 April 2012"
    Column("end_date_label", String(30), nullable=False),
    Column("max_extent_label", String(30), nullable=False),
    Column("notice_date_label", String(30), nullable=False),
    Column("decision_by_label", String(30), nullable=False),
    Column("annual_value_display", String(30), nullable=False),  # £1,234
    Column("as_at_label", String(30), nullable=False),
)

mart_funding = Table(
    "mart_funding",
    metadata,
    *_viewer_columns(),
    Column("financial_year", String(7), nullable=False),
    Column("funder_name", String(200), nullable=False),
    Column("funding_stream", String(120), nullable=False),
    Column("category", String(20), nullable=False),
    Column("service_type", String(40), nullable=False),
    Column("contract_id", Integer, nullable=False),
    Column("contract_title", String(200), nullable=False),
    Column("amount", Money, nullable=False),
    Column("category_label", String(30), nullable=False),
    Column("service_type_label", String(40), nullable=False),
)

mart_provision = Table(
    "mart_provision",
    metadata,
    *_viewer_columns(),
    Column("cohort", String(40), nullable=False),
    Column("category", String(20), nullable=False),  # "" on a gap row
    Column("service_type", String(40), nullable=False),  # "" on a gap row
    Column("live_contracts", Integer, nullable=False),
    Column("annual_spend", Money, nullable=False),
    Column("gap", Boolean, nullable=False),  # the cohort has no live service at all
    Column("as_at", Date, nullable=False),
    Column("cohort_label", String(40), nullable=False),  # "Children and young people"
    Column("category_label", String(30), nullable=False),  # [z] on a gap row
    Column("service_type_label", String(40), nullable=False),  # [z] on a gap row
    Column("as_at_label", String(30), nullable=False),
)

# Unmet need by cohort and quarter (etl/transform/unmet_need.py): referrals
# not taken (a row per reason, and "Not shown" for what the reasons shown
# leave out), people waiting at the quarter's end, children whose support
# was asked for and who got it, and the share who got it. A service for
# several cohorts counts in each. A board's figures are sums of its
# suppressed service figures, shown only when every one is shown.
mart_unmet_need = Table(
    "mart_unmet_need",
    metadata,
    *_viewer_columns(),
    Column("cohort", String(40), nullable=False),
    Column("period_key", String(10), nullable=False),
    Column("period_label", String(20), nullable=False),
    Column("financial_year", String(7), nullable=False),
    Column("period_sort", Integer, nullable=False),
    # not_taken, waiting, children_wanted, children_received, children_share
    Column("measure", String(30), nullable=False),
    Column("unit", String(20), nullable=False),  # "count", or "percentage" for the share
    Column("part", String(100), nullable=False),  # "" for the total; a reason, or "Not shown"
    Column("part_sort", Integer, nullable=False),  # the total 0, the library's reasons, "Not shown" last
    Column("value", Float),  # NULL when hidden or not available
    Column("value_display", String(30), nullable=False),  # "12", "33.3%", or [c] / [x] / [z]
    Column("services_reporting", Integer, nullable=False),  # services whose figure it adds up
    Column("latest_quarter", Boolean, nullable=False),  # the viewer's latest quarter with figures
    Column("cohort_label", String(40), nullable=False),  # "Children and young people"
    Column("measure_label", String(60), nullable=False),  # "Referrals not taken"
    Column("measure_sort", Integer, nullable=False),
    Column("part_label", String(100), nullable=False),  # "No space", "Total", "Not shown"
)

mart_outcomes = Table(
    "mart_outcomes",
    metadata,
    *_viewer_columns(),
    Column("contract_id", Integer, nullable=False),
    Column("contract_title", String(200), nullable=False),
    Column("provider_name", String(200), nullable=False),
    Column("period_key", String(10), nullable=False),
    Column("period_label", String(20), nullable=False),
    Column("period_sort", Integer, nullable=False),
    Column("measure", String(10), nullable=False),
    Column("informant", String(10), nullable=False),
    Column("paired_cases", Integer),  # NULL when suppressed
    Column("paired_cases_display", String(30), nullable=False),
    Column("mean_change", Float),
    Column("improved_pct", Float),
    Column("improved_display", String(30), nullable=False),
    Column("small_sample", Boolean, nullable=False),
    Column("mean_change_display", String(30), nullable=False),  # 2.5, or [c] / [x]
    Column("small_sample_label", String(20), nullable=False),  # "Small sample" or ""
)

# The parts of every all-services figure broken down (referrals by source),
# and a "Not shown" part for what the parts shown leave out of the total
# (hidden parts, parts not reported), so a stacked chart reaches its total.
mart_board_parts = Table(
    "mart_board_parts",
    metadata,
    *_viewer_columns(),
    Column("kpi_code", String(30), nullable=False),
    Column("kpi_name", String(200), nullable=False),
    Column("period_key", String(10), nullable=False),
    Column("period_label", String(20), nullable=False),
    Column("period_sort", Integer, nullable=False),
    Column("part", String(100), nullable=False),  # a breakdown, or "Not shown"
    Column("part_sort", Integer, nullable=False),  # "Not shown" last
    Column("actual", Float),  # NULL when hidden or not available
    Column("actual_display", String(30), nullable=False),
    Column("total", Float),  # the figure the parts add up to; NULL when hidden
    Column("total_display", String(30), nullable=False),
)

# "How we compare" (etl/transform/comparison.py): for each opted-in area's
# board (and its member commissioners), each compared KPI's year figure of
# every area in each comparison group it is in (all areas, its region, each
# similar-areas group), with 95% and 99.8% intervals, the group's comparator
# (pooled proportion or median), quartiles, the label and its method; and
# "limit" rows, the funnel plot's control limits. Areas not opted in on the
# as-at date are in no row. Other areas' rows and the limits are for the
# latest year only; the viewer's own area has every year. Figures are after
# disclosure control for every viewer ([c]: NULL value, no interval or label).
mart_comparison = Table(
    "mart_comparison",
    metadata,
    *_viewer_columns(),
    Column("viewer_area_id", Integer, nullable=False),  # the partnership whose comparison this is
    Column("viewer_area_name", String(200), nullable=False),
    Column("row_kind", String(10), nullable=False),  # "area" or "limit" (a funnel point)
    Column("group_name", String(100), nullable=False),  # "All areas", "London areas", a similar-areas group
    Column("group_kind", String(20), nullable=False),  # "all areas", "region", "similar areas"
    Column("group_sort", Integer, nullable=False),
    Column("group_members", Integer, nullable=False),  # areas in the group with a figure
    Column("kpi_code", String(30), nullable=False),
    Column("kpi_name", String(200), nullable=False),
    Column("unit", String(20), nullable=False),
    Column("direction", String(20), nullable=False),
    Column("measure", String(10), nullable=False),  # "proportion" or "count"
    Column("financial_year", String(7), nullable=False),
    Column("is_latest_year", Boolean, nullable=False),
    Column("area_id", Integer),  # NULL on limit rows
    Column("area_name", String(200), nullable=False),  # "" on limit rows
    Column("is_viewer_area", Boolean, nullable=False),
    Column("value", Float),  # a percentage 0 to 100, or a count; NULL when hidden
    Column("value_display", String(30), nullable=False),
    Column("trials", Integer),  # a proportion's denominator (the funnel's x); NULL when hidden
    Column("lower_95", Float),
    Column("upper_95", Float),
    Column("lower_99_8", Float),
    Column("upper_99_8", Float),
    Column("interval_display", String(40), nullable=False),  # "52.1% to 68.0%" (95%), or [c] / [z]
    Column("comparator", Float),  # the group's pooled proportion or median; NULL when hidden
    Column("comparator_display", String(30), nullable=False),
    Column("lower_quartile", Float),
    Column("median", Float),
    Column("upper_quartile", Float),
    Column("lower_quartile_display", String(30), nullable=False),
    Column("median_display", String(30), nullable=False),
    Column("upper_quartile_display", String(30), nullable=False),
    Column("label", String(30), nullable=False),  # "Significantly better", "Similar", ..., or [c]
    Column("note", String(300), nullable=False),  # the method, or why not compared
    Column("limit_95_lower", Float),  # limit rows only
    Column("limit_95_upper", Float),
    Column("limit_99_8_lower", Float),
    Column("limit_99_8_upper", Float),
    # The day the comparison was worked out for: full runs rebuild this mart,
    # incremental runs do not (etl/run.py), so the dashboard and the board
    # pack say which day it is.
    Column("as_at", Date, nullable=False),
    Column("as_at_label", String(30), nullable=False),  # "6 May 2014", as the dashboard shows it
    # What the dashboard's charts ask of one viewer's rows, so a query reads
    # those rows only (bench/comparison.py): its own area's, the "Viewing as"
    # names, and one KPI of one group for a funnel plot.
    Index("ix_mart_comparison_own", "viewer", "is_viewer_area"),
    Index("ix_mart_comparison_names", "viewer", "viewer_name"),
    Index("ix_mart_comparison_chart", "viewer", "kpi_code", "group_sort"),
)

# --- bookkeeping ---------------------------------------------------------------

etl_run = Table(
    "etl_run",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    # "full", "incremental", or "roll" (the as-at date moved: only the rows
    # that depend on it were rewritten, after any changed contracts' rows).
    Column("mode", String(12), nullable=False),
    Column("status", String(12), nullable=False),  # "succeeded" or "failed"
    # Changes in the app database up to this instant are in the warehouse.
    Column("watermark", DateTime),
    # The day renewal dates, statuses and snapshots were worked out for.
    Column("as_at", Date),
    # A digest of organisations, partnerships and KPIs: when it changes, every
    # viewer's rows may change, so the next run is a full one.
    Column("reference_hash", String(64)),
    Column("contracts_changed", Integer, nullable=False, default=0),
    Column("row_counts", Text, nullable=False, default="{}"),  # JSON
    Column("checks", Text, nullable=False, default="[]"),  # JSON
    Column("message", Text, nullable=False, default=""),
)

FACTS = (fact_kpi_result, fact_funding, fact_contract_snapshot, fact_outcome)
DIMENSIONS = (dim_period, dim_organisation, dim_kpi, dim_contract, bridge_contract_viewer)
MARTS = (
    mart_board_performance,
    mart_value_for_money,
    mart_renewals,
    mart_funding,
    mart_provision,
    mart_unmet_need,
    mart_outcomes,
    mart_board_parts,
    mart_comparison,
)
