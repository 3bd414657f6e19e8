"""How we compare: the viewer's area against the other areas that opted in
(monitor/benchmarking, etl/transform/comparison.py)."""

from monitor.kpis.library.definitions import STANDARD_KPIS
from monitor.superset.charts import eq, is_true, line, table
from monitor.superset.spec import Chart, Dashboard, Markdown

from .datasets import COMPARISON

KPI_NAMES = {spec.code: spec.name for spec in STANDARD_KPIS}
ALL_AREAS_SORT = 0  # etl.extract.benchmarking puts "All areas" first

FIGURES = table(
    "comparison/figures",
    "This area's figures against each group",
    COMPARISON,
    [
        "viewer_area_name",
        "financial_year",
        "kpi_name",
        "group_name",
        "value_display",
        "interval_display",
        "comparator_display",
        "lower_quartile_display",
        "median_display",
        "upper_quartile_display",
        "label",
        "note",
        "as_at_label",
    ],
    filters=[is_true("is_viewer_area"), eq("row_kind", "area")],
    order_by=[
        ("viewer_area_name", True),
        ("financial_year", False),
        ("kpi_name", True),
        ("group_sort", True),
        ("group_name", True),
    ],
    rows=15,
    lines=3,
    description="Each figure with its 95% interval, the group's figure (pooled proportion or median) "
    "and quartiles; the label says whether the interval excludes the group's figure.",
)

COUNTS = table(
    "comparison/count-quartiles",
    "Counts in the latest year: where this area sits among its groups' quartiles",
    COMPARISON,
    [
        "viewer_area_name",
        "kpi_name",
        "group_name",
        "group_members",
        "value_display",
        "lower_quartile_display",
        "median_display",
        "upper_quartile_display",
        "label",
    ],
    filters=[
        is_true("is_viewer_area"),
        is_true("is_latest_year"),
        eq("measure", "count"),
        eq("row_kind", "area"),
    ],
    order_by=[("viewer_area_name", True), ("kpi_name", True), ("group_sort", True), ("group_name", True)],
    rows=10,
    lines=2,
)


def funnel(code: str) -> Chart:
    """A funnel plot of one proportion KPI among all areas in the latest year:
    each area's percentage by its number of cases, inside the group's 95%
    and 99.8% control limits."""
    return line(
        f"comparison/funnel/{code.lower()}",
        f"{KPI_NAMES[code]}: all areas, latest year",
        COMPARISON,
        "trials",
        [
            "this_area",
            "other_areas",
            "group_value",
            "limit_95_lower",
            "limit_95_upper",
            "limit_99_8_lower",
            "limit_99_8_upper",
        ],
        filters=[
            eq("kpi_code", code),
            eq("group_sort", ALL_AREAS_SORT),
            is_true("is_latest_year"),
        ],
        x_title="Cases (the percentage's denominator)",
        y_title="Per cent",
        number_format=",.1f",
        description="Points outside the inner (95%) lines are labelled significantly better or worse; "
        "outside the outer (99.8%) lines, very unlikely to be chance. Hidden figures ([c]) are not drawn.",
    )


# The headline percentages boards ask about: contact, planned endings and the
# SafeLives outcomes. Every percentage compared is in the table above.
FUNNEL_KPIS = ("CONTACT-2WD", "PLANNED-ENDING", "FEEL-SAFER", "ABUSE-STOPPED")
FUNNELS = tuple(funnel(code) for code in FUNNEL_KPIS)

INTRO = (
    "Your area's figures for the year against the other areas that have agreed to be compared: all "
    "areas, your region's, and any similar-areas group your area is in. Areas that have not agreed "
    "are not shown or counted.\n\n"
    "**Percentages** are compared with the group's pooled percentage (all its cases together) using "
    "a 95% Wilson score interval. **Counts** are compared with the group's median using a 95% "
    "Byar's interval. A figure is **significantly better** or **worse** only where its interval "
    "does not include the group's figure, so chance alone is an unlikely explanation. It is not a "
    "judgement of a service: areas differ in need and in how they record, and about 1 in 20 areas "
    "just like their group is still labelled at 95%.\n\n"
    "Counts from 1 to 4 are shown as **[c]** for every area, yours included, and so is any group "
    "figure that would give one away. **[z]** means not applicable.\n\n"
    "The comparison is worked out by the warehouse's full run each night, not as returns come in, "
    "so figures accepted today are compared tomorrow. The table's **As at** column says which day "
    "its figures were worked out for. The figures are illustrative demo data."
)

DASHBOARD = Dashboard(
    slug="how-we-compare",
    title="How we compare",
    description="Each KPI for your area against the other areas that opted in to comparison, with "
    "intervals, funnel plots and the method beside every label.",
    rows=(
        (Markdown("comparison/intro", INTRO, height=30),),
        (FIGURES,),
        (COUNTS,),
        FUNNELS[:2],
        FUNNELS[2:],
    ),
    viewer_filter_dataset=COMPARISON,
)
