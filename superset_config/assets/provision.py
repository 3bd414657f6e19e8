"""Provision map and gaps: which groups have services, and which have none."""

from monitor.contracts.models import Cohort
from monitor.superset.charts import bar, big_number, is_false, is_true, pivot, table
from monitor.superset.spec import Dashboard, Markdown

from .datasets import PROVISION
from .text import MARKERS

GAP_LIST = table(
    "provision/gaps",
    "Which cohorts have no live service",
    PROVISION,
    ["cohort_label", "as_at_label"],
    filters=(is_true("gap"),),
    order_by=[("cohort", True)],
    # At most every cohort, so one page and no more.
    rows=len(Cohort),
    width=8,
)
GAPS = big_number(
    "provision/gap-count",
    "Cohorts with no live service",
    PROVISION,
    "gaps",
    subtitle="Groups no current contract is for",
    width=4,
    height=GAP_LIST.height,  # as tall as the list beside it
)
MAP = pivot(
    "provision/map",
    "Live services by cohort and service type",
    PROVISION,
    rows=["cohort_label"],
    columns=["service_type_label"],
    metrics=["live_contracts"],
    filters=(is_false("gap"),),
    number_format=",.0f",
)
SPEND = bar(
    "provision/spend-by-cohort",
    "Annual spend by cohort and category (£)",
    PROVISION,
    "cohort_label",
    ["annual_spend"],
    group_by=["category_label"],
    filters=(is_false("gap"),),
    stack=True,
    number_format=",.0f",
    description="A service for several cohorts counts in each",
    width=12,
)

DASHBOARD = Dashboard(
    slug="provision-gaps",
    title="Provision map and gaps",
    description="Live services by cohort, category and service type, and the cohorts with none.",
    rows=(
        (Markdown("provision/intro", MARKERS),),
        (GAPS, GAP_LIST),
        (MAP,),
        (SPEND,),
    ),
    viewer_filter_dataset=PROVISION,
)
