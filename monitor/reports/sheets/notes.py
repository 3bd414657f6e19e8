"""The notes sheet: what the markers mean, how ratings work, where the figures come from."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from monitor.formatting import time_text
from monitor.reports.sheets.context import Context
from monitor.reports.sheets.styles import in_words
from monitor.reports.sheets.tables import Cell, Col, write_table


def notes(ctx: Context) -> list[tuple[str, str]]:
    pack = ctx.pack
    threshold = pack.threshold
    loaded = f"{time_text(pack.loaded_at)} (UK time)" if pack.loaded_at else "not known"
    audience = (
        f"the services {pack.audience.name} commissions, as lead or partner commissioner"
        if pack.audience.kind == "commissioner"
        else f"the services commissioned by the members of {pack.audience.name}"
    )
    return [
        ("About this pack", f"Performance, outcomes, spend and renewals of {audience}."),
        (
            "Quarter",
            f"{pack.period.label}. Charts and tables show up to eight quarters ending with this one.",
        ),
        (
            "Financial years",
            "The financial year runs from 1 April to 31 March and is written 2013/14. Q1 is April to June, "
            "Q2 July to September, Q3 October to December and Q4 January to March.",
        ),
        ("Figures as at", f"{in_words(pack.as_at)}: the date the warehouse's figures describe."),
        ("Warehouse loaded", f"{loaded}. Figures change only when returns are accepted or contracts change."),
        (
            "[c] confidential",
            f"A count from 1 to {threshold} is hidden to protect the privacy of the people a service supports, "
            "because a number that small could identify someone. Zero is shown as 0.",
        ),
        (
            "Secondary suppression",
            "Where figures add up to a total shown elsewhere (services to the total of all services, quarters "
            "to a year, referral sources to all referrals), more figures are hidden so a hidden one can't be "
            "worked out by subtraction. A percentage, cost per case or average worked out from a hidden or "
            "small count is hidden too, and so is the rating of a hidden figure.",
        ),
        ("[x] not available", "The figure was not reported, or its return has not been accepted yet."),
        ("[z] not applicable", "The service was not running in that quarter, or the KPI has no target."),
        (
            "Disclosure threshold",
            f"{threshold}: set by the DISCLOSURE_THRESHOLD setting, following Government Statistical "
            "Service practice. The same rule applies to the dashboards boards see.",
        ),
        (
            "Ratings (RAG)",
            "Each KPI is rated against the target in force in the quarter. Green: at or better than the "
            "target. Amber: worse than the target but within its tolerance (usually 10% of the target, set "
            "for each KPI in the contract's framework). Red: further off than that. Whether higher or lower "
            "is better is set for each KPI. A yearly target for a KPI that adds up over the year is shared "
            "equally over its four quarters. Not rated: the KPI has no target.",
        ),
        (
            "Procurement Act 2023 ratings",
            "Green is Good, amber Approaching target, red Requires improvement, and red for two quarters "
            "running Inadequate. Not rated is Other.",
        ),
        (
            "Value for money",
            "Spend is the funding recorded for the service in the financial year. Referrals, completions and "
            "positive outcomes are the year's totals from accepted returns; each cost is spend divided by one "
            "of them.",
        ),
        (
            "Unmet need",
            "Referrals not taken, people waiting and children's support are the services' figures added up "
            "by the cohort each service is for; a service for several cohorts counts in each. A cohort's "
            "figure is hidden [c] when any service figure in it is hidden, and the share of children who "
            "received support is hidden when either count is, or when it would reveal a small number. "
            "Not shown: referrals whose reason is hidden or was not reported.",
        ),
        (
            "How we compare",
            "The area's figures for its latest financial year against every area that has agreed to be "
            "compared, its region and its similar-areas groups; areas that have not agreed are never shown "
            "or counted. Percentages have 95% Wilson score intervals and are compared with the group's "
            "pooled percentage; counts have 95% Byar's intervals and are compared with the group's median. "
            "'Significantly' better or worse means only that the interval does not include the group's "
            "figure; it is not a judgement of the service. Small counts, and group figures that would give "
            "one away, are hidden [c] and not labelled.",
        ),
        (
            "Outcome measures",
            "SDQ (Strengths and Difficulties Questionnaire, total difficulties 0 to 40, a fall is better), "
            "WEMWBS (14 to 70, a rise is better) and SWEMWBS (converted to its metric score before any "
            "arithmetic). Only pairs of scores at the start and end of support count. Fewer than 30 pairs is a "
            "small sample.",
        ),
        (
            "Data sources",
            "Figures: the monitoring warehouse (the marts for board performance, value for money, outcomes, "
            "funding, renewals, unmet need and comparisons), built from the contract register and accepted quarterly returns. "
            "Providers' commentary: the accepted version of each return, as the commissioner accepted it.",
        ),
        (
            "Provider commentary",
            "The provider's own words, shown as written. Only returns a commissioner has accepted are used.",
        ),
        (
            "Charts",
            "The Chart data sheet holds the figures each chart plots. A hidden or missing figure is an empty "
            "cell there and a gap in the chart, never a zero.",
        ),
    ]


def write_notes(ctx: Context, sheet: Worksheet) -> None:
    sheet.write_string(0, 0, "Notes", ctx.styles.title)
    sheet.write_string(1, 0, f"{ctx.pack.audience.name}: {ctx.pack.period.label}", ctx.styles.subtitle)
    rows: list[list[Cell]] = [[topic, text] for topic, text in notes(ctx)]
    write_table(
        sheet,
        ctx.styles,
        3,
        "Notes",
        [Col("Topic", "wrap", 28), Col("Explanation", "wrap", 100)],
        rows,
        empty_note="",
    )
    sheet.freeze_panes(4, 0)
