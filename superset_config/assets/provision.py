"""Provision map and gaps: which groups have services, and which have none,
and the need the services could not meet, by cohort."""

from etl.transform.labels import NOT_SHOWN
from etl.transform.unmet_need import CHILDREN_RECEIVED, CHILDREN_SHARE, CHILDREN_WANTED, NOT_TAKEN, WAITING
from monitor.contracts.models import Cohort
from monitor.superset.charts import bar, big_number, eq, is_false, is_in, is_true, not_in, pivot, table
from monitor.superset.spec import Dashboard, Markdown

from .datasets import PROVISION, UNMET_NEED
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

# Unmet need: each viewer's latest quarter, since people waiting at a
# quarter's end can't be added up over quarters.
LATEST = is_true("latest_quarter")
EACH_COHORT = "A service for several cohorts counts in each"
UNMET_NEED_INTRO = Markdown(
    "provision/unmet-need-intro",
    "**Unmet need** in the latest quarter with figures: referrals the services could not take, people "
    "waiting, and children whose support was asked for. Each figure adds up the services for the cohort, "
    "and a service for several cohorts counts in each. On a board's dashboard a cohort's figure is "
    "**[c]** when any service's figure in it is hidden, or when it is itself from 1 to 4.",
)
NOT_TAKEN_BY_REASON = bar(
    "provision/unmet-need-not-taken",
    "Referrals not taken by cohort and reason, latest quarter",
    UNMET_NEED,
    "cohort_label",
    ["total_value"],
    group_by=["part_label"],
    filters=(LATEST, eq("measure", NOT_TAKEN), not_in("part", [""])),
    stack=True,
    x_title="Cohort",
    y_title="Referrals not taken",
    number_format=",.0f",
    label_colors={NOT_SHOWN: "#b1b4b6"},
    description=f"{EACH_COHORT}. Not shown: referrals whose reason is hidden ([c]) or not reported, "
    "so each bar reaches the cohort's total where that is shown",
    width=12,
)
CHILDREN_SUPPORTED = table(
    "provision/unmet-need-children",
    "Children who wanted support and received it, by cohort",
    UNMET_NEED,
    ["cohort_label", "period_label", "measure_label", "value_display"],
    filters=(LATEST, is_in("measure", [CHILDREN_WANTED, CHILDREN_RECEIVED, CHILDREN_SHARE])),
    order_by=[("cohort", True), ("measure_sort", True)],
    # Three figures a cohort: a page holds four cohorts.
    rows=12,
    description=f"{EACH_COHORT}. The share is hidden [c] when either count is, or when it would "
    "reveal a small number",
    width=6,
)
WAITING_BY_COHORT = bar(
    "provision/unmet-need-waiting",
    "People waiting at the quarter's end by cohort, latest quarter",
    UNMET_NEED,
    "cohort_label",
    ["total_value"],
    filters=(LATEST, eq("measure", WAITING)),
    x_title="Cohort",
    y_title="People waiting",
    number_format=",.0f",
    description=f"{EACH_COHORT}. A cohort hidden [c] has no bar",
    width=6,
    height=CHILDREN_SUPPORTED.height,  # as tall as the table beside it
)

DASHBOARD = Dashboard(
    slug="provision-gaps",
    title="Provision map and gaps",
    description="Live services by cohort, category and service type, the cohorts with none, and the "
    "need the services could not meet.",
    rows=(
        (Markdown("provision/intro", MARKERS),),
        (GAPS, GAP_LIST),
        (MAP,),
        (SPEND,),
        (UNMET_NEED_INTRO,),
        (NOT_TAKEN_BY_REASON,),
        (WAITING_BY_COHORT, CHILDREN_SUPPORTED),
    ),
    viewer_filter_dataset=PROVISION,
)
