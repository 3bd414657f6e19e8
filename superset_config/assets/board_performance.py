"""Board performance overview: KPI results against the framework."""

from etl.transform.labels import RAG_COLOURS, RAG_ORDER
from monitor.superset.charts import bar, big_number, eq, line, table
from monitor.superset.spec import Dashboard, Markdown

from .datasets import PARTS, PERFORMANCE
from .text import MARKERS, rag_legend

# Each service's headline result per KPI, not its breakdowns (referral sources, plans).
SERVICE_RESULTS = (eq("scope", "service"), eq("breakdown", ""))
# Each rating's colour, by the label its series carries (the metric's verbose
# name) and by its key: fixed, not left to Superset's palette.
RAG_LABEL_COLORS = {
    **{rag.text: RAG_COLOURS[rag] for rag in RAG_ORDER},
    **{rag.value: RAG_COLOURS[rag] for rag in RAG_ORDER},
}

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
    "period_label",
    [rag.value for rag in RAG_ORDER],
    filters=SERVICE_RESULTS,
    stack=True,
    x_title="Quarter",
    y_title="KPI results",
    label_colors=RAG_LABEL_COLORS,
    # Superset would list the series by name (Amber, Green, Red); the
    # legend is written beside the chart in the app's order instead.
    legend=False,
)
RAG_LEGEND = Markdown("board-performance/rag-legend", rag_legend(), width=12, height=8)
REFERRALS_ACTUAL_TARGET = line(
    "board-performance/referrals-against-target",
    "Referrals received against target",
    PERFORMANCE,
    "period_label",
    ["total_actual", "total_target"],
    filters=(*SERVICE_RESULTS, eq("kpi_code", "REF-RECEIVED")),
    x_title="Quarter",
    y_title="Referrals",
    description="Targets count only where the service's figure is shown",
)
REFERRALS_BY_SOURCE = bar(
    "board-performance/referrals-by-source",
    "Referrals by source, all services",
    PARTS,
    "period_label",
    ["total_actual"],
    group_by=["part"],
    filters=(eq("kpi_code", "REF-RECEIVED"),),
    stack=True,
    x_title="Quarter",
    y_title="Referrals",
    label_colors={"Not shown": "#b1b4b6"},
    description="Not shown: referrals from sources hidden to protect survivors ([c]) or not reported, "
    "so each bar reaches the quarter's total",
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
        "target_display",
        "rag_label",
        "rating",
    ],
    filters=SERVICE_RESULTS,
    order_by=[("contract_title", True), ("kpi_name", True), ("period_sort", True)],
    # Service and KPI names wrap to two lines.
    rows=10,
    lines=2,
)

DASHBOARD = Dashboard(
    slug="board-performance",
    title="Board performance overview",
    description="How every commissioned service performs against its framework, quarter by quarter.",
    rows=(
        (Markdown("board-performance/intro", MARKERS),),
        (GREEN, AMBER, RED, SUPPRESSED),
        (RAG_LEGEND,),
        (RAG_BY_QUARTER, REFERRALS_ACTUAL_TARGET),
        (REFERRALS_BY_SOURCE,),
        (RESULTS,),
    ),
    viewer_filter_dataset=PERFORMANCE,
    label_colors={**RAG_LABEL_COLORS, "Not shown": "#b1b4b6"},
)
