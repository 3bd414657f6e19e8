"""Outcomes: paired before-and-after measures (SDQ, WEMWBS, SWEMWBS)."""

from monitor.superset.charts import bar, table
from monitor.superset.spec import Dashboard, Markdown

from .datasets import OUTCOMES
from .text import MARKERS

IMPROVED = bar(
    "outcomes/improved-by-quarter",
    "Cases that improved (%), by measure",
    OUTCOMES,
    "period_label",
    ["improved_pct"],
    group_by=["measure"],
    x_title="Quarter",
    y_title="Per cent of paired cases",
    number_format=",.1f",
    description="The average of each service's percentage; hidden percentages are left out",
)
PAIRED = bar(
    "outcomes/paired-cases-by-quarter",
    "Paired cases, by measure",
    OUTCOMES,
    "period_label",
    ["paired_cases"],
    group_by=["measure"],
    stack=True,
    x_title="Quarter",
    y_title="Paired cases",
)
RESULTS = table(
    "outcomes/results",
    "Outcome measures by service and quarter",
    OUTCOMES,
    [
        "contract_title",
        "provider_name",
        "measure",
        "informant",
        "period_label",
        "paired_cases_display",
        "mean_change_display",
        "improved_display",
        "small_sample_label",
    ],
    order_by=[("contract_title", True), ("measure", True), ("informant", True), ("period_sort", True)],
    rows=10,
    lines=2,
)

DASHBOARD = Dashboard(
    slug="outcomes",
    title="Outcomes",
    description="What changed for the people services supported, from paired before-and-after scores.",
    rows=(
        (
            Markdown(
                "outcomes/intro",
                MARKERS + "\n\nScores are paired: the same person before and after support. Fewer than 30 "
                "paired cases is a small sample; read the change with care.",
                height=18,
            ),
        ),
        (IMPROVED, PAIRED),
        (RESULTS,),
    ),
    viewer_filter_dataset=OUTCOMES,
)
