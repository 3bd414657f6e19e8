"""Funding and value for money: who pays, for what, and what it buys."""

from monitor.superset.charts import bar, pivot, table
from monitor.superset.spec import Dashboard, Markdown

from .datasets import FUNDING, VALUE_FOR_MONEY
from .text import MARKERS

BY_FUNDER = pivot(
    "funding/by-funder-and-year",
    "Funding by funder and financial year (£)",
    FUNDING,
    rows=["funder_name"],
    columns=["financial_year"],
    metrics=["funding"],
    number_format=",.0f",
    width=7,
)
BY_CATEGORY = bar(
    "funding/by-category-and-year",
    "Funding by category (£)",
    FUNDING,
    "financial_year",
    ["funding"],
    group_by=["category_label"],
    stack=True,
    x_title="Financial year",
    number_format=",.0f",
    width=5,
)
COST_PER_CASE = bar(
    "funding/cost-per-case-by-year",
    "Cost per referral, completion and positive outcome (£)",
    VALUE_FOR_MONEY,
    "financial_year",
    ["cost_per_referral", "cost_per_completion", "cost_per_positive_outcome"],
    x_title="Financial year",
    number_format=",.0f",
    description="Spend divided by the cases each service reported; services whose count is not "
    "shown ([c] or [x]) are left out of that measure",
)
SPEND_BY_YEAR = bar(
    "funding/spend-by-service-type",
    "Spend by service type (£)",
    VALUE_FOR_MONEY,
    "financial_year",
    ["spend"],
    group_by=["service_type_label"],
    stack=True,
    x_title="Financial year",
    number_format=",.0f",
)
VALUE_TABLE = table(
    "funding/value-for-money",
    "Value for money by service",
    VALUE_FOR_MONEY,
    [
        "financial_year",
        "contract_title",
        "provider_name",
        "spend_display",
        "referrals_display",
        "cost_per_referral_display",
        "completions_display",
        "cost_per_completion_display",
        "positive_outcomes_display",
        "cost_per_positive_outcome_display",
    ],
    order_by=[("financial_year", True), ("contract_title", True)],
    # A year of each viewer's services; names wrap.
    rows=8,
    lines=2,
)

DASHBOARD = Dashboard(
    slug="funding-value-for-money",
    title="Funding and value for money",
    description="Spend by funder, category and year, and the cost per referral, completion and positive outcome.",
    rows=(
        (Markdown("funding/intro", MARKERS),),
        (BY_FUNDER, BY_CATEGORY),
        (COST_PER_CASE, SPEND_BY_YEAR),
        (VALUE_TABLE,),
    ),
    viewer_filter_dataset=FUNDING,
)
