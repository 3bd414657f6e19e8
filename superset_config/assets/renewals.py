"""Contracts and renewals: what ends soon and when notice must be served."""

from monitor.superset.charts import bar, big_number, not_in, pie, table
from monitor.superset.spec import Dashboard, Markdown

from .datasets import RENEWALS
from .text import MARKERS

CURRENT = (not_in("status", ["expired", "terminated", "decommissioned"]),)

NOTICE_SOON = big_number(
    "renewals/notice-within-6-months",
    "Notice dates in the next 6 months",
    RENEWALS,
    "notice_within_6_months",
    subtitle="Contracts whose last day to serve notice is within 183 days",
    width=4,
)
ENDING_SOON = big_number(
    "renewals/ending-within-12-months",
    "Ending in the next 12 months",
    RENEWALS,
    "ending_within_12_months",
    subtitle="Contracts whose current term ends within 365 days",
    width=4,
)
ANNUAL_VALUE = big_number(
    "renewals/annual-value",
    "Annual value of current contracts",
    RENEWALS,
    "annual_value",
    filters=CURRENT,
    subtitle="£ a year, contracts not yet ended",
    number_format=",.0f",
    width=4,
)
BY_STATUS = pie(
    "renewals/by-status",
    "Contracts by status",
    RENEWALS,
    "status_label",
    "contracts",
    width=6,
)
VALUE_BY_STATUS = bar(
    "renewals/value-by-status",
    "Annual value by status (£)",
    RENEWALS,
    "status_label",
    ["annual_value"],
    x_title="Status",
    number_format=",.0f",
)
UPCOMING = table(
    "renewals/upcoming",
    "Upcoming notice and end dates",
    RENEWALS,
    [
        "contract_reference",
        "contract_title",
        "provider_name",
        "status_label",
        "notice_date_label",
        "decision_by_label",
        "end_date_label",
        "max_extent_label",
        "options_remaining",
        "annual_value_display",
    ],
    filters=CURRENT,
    order_by=[("notice_date", True), ("contract_reference", True)],
    # A commissioner or board has a handful of current contracts; dates wrap.
    rows=4,
    lines=2,
)

DASHBOARD = Dashboard(
    slug="contracts-renewals",
    title="Contracts and renewals",
    description="When each current contract ends, when notice must be served and what is left to extend.",
    rows=(
        (Markdown("renewals/intro", MARKERS),),
        (NOTICE_SOON, ENDING_SOON, ANNUAL_VALUE),
        (UPCOMING,),
        (BY_STATUS, VALUE_BY_STATUS),
    ),
    viewer_filter_dataset=RENEWALS,
)
