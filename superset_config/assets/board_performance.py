"""Board performance overview: KPI results against the framework."""

from monitor.superset.charts import bar, big_number, eq, line, not_in, table
from monitor.superset.spec import Dashboard, Markdown

from .datasets import PERFORMANCE
from .text import MARKERS

# Each service's headline result per KPI, not its breakdowns (referral sources, plans).
SERVICE_RESULTS = (eq("scope", "service"), eq("breakdown", ""))
REFERRALS_ALL_SERVICES = (eq("scope", "all services"), eq("kpi_code", "REF-RECEIVED"))

GREEN = big_number(
    "board-performance/green",
    "On or above target",
    PERFORMANCE,
    "green",
    filters=SERVICE_RESULTS,
    subtitle="KPI results rated green, all quarters",
)
AMBER = big_number(
    "board-performance/amber",
    "Within tolerance",
    PERFORMANCE,
    "amber",
    filters=SERVICE_RESULTS,
    subtitle="KPI results rated amber, all quarters",
)
RED = big_number(
    "board-performance/red",
    "Off target",
    PERFORMANCE,
    "red",
    filters=SERVICE_RESULTS,
    subtitle="KPI results rated red, all quarters",
)
SUPPRESSED = big_number(
    "board-performance/suppressed",
    "Not shown [c]",
    PERFORMANCE,
    "suppressed",
    filters=SERVICE_RESULTS,
    subtitle="Results hidden to protect survivors",
)
RAG_BY_QUARTER = bar(
    "board-performance/rag-by-quarter",
    "RAG ratings by quarter",
    PERFORMANCE,
    "period_key",
    ["green", "amber", "red"],
    filters=SERVICE_RESULTS,
    stack=True,
    x_title="Quarter",
    y_title="KPI results",
)
REFERRALS_ACTUAL_TARGET = line(
    "board-performance/referrals-against-target",
    "Referrals received against target",
    PERFORMANCE,
    "period_key",
    ["total_actual", "total_target"],
    filters=(*SERVICE_RESULTS, eq("kpi_code", "REF-RECEIVED")),
    x_title="Quarter",
    y_title="Referrals",
    description="Targets count only where the service's figure is shown",
)
REFERRALS_BY_SOURCE = bar(
    "board-performance/referrals-by-source",
    "Referrals by source, all services",
    PERFORMANCE,
    "period_key",
    ["total_actual"],
    group_by=["breakdown"],
    filters=(*REFERRALS_ALL_SERVICES, not_in("breakdown", [""])),
    stack=True,
    x_title="Quarter",
    y_title="Referrals",
    width=12,
)
RESULTS = table(
    "board-performance/results",
    "KPI results by service and quarter",
    PERFORMANCE,
    [
        "provider_name",
        "contract_title",
        "kpi_name",
        "period_label",
        "actual_display",
        "target",
        "rag",
        "rating",
        "marker",
    ],
    filters=SERVICE_RESULTS,
    order_by=[("contract_title", True), ("kpi_name", True), ("period_sort", True)],
    number_formats={"target": ",.0f"},
)

DASHBOARD = Dashboard(
    slug="board-performance",
    title="Board performance overview",
    description="How every commissioned service performs against its framework, quarter by quarter.",
    rows=(
        (Markdown("board-performance/intro", MARKERS),),
        (GREEN, AMBER, RED, SUPPRESSED),
        (RAG_BY_QUARTER, REFERRALS_ACTUAL_TARGET),
        (REFERRALS_BY_SOURCE,),
        (RESULTS,),
    ),
    viewer_filter_dataset=PERFORMANCE,
    label_colors={"green": "#00703c", "amber": "#f47738", "red": "#d4351c"},
)
