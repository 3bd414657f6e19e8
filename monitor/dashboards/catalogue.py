"""The dashboards the app embeds, by their Superset slugs.

The slugs are the ones `flask superset provision` gives the dashboards in
superset_config/; the titles and summaries are what the Dashboards page shows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    summary: str


DASHBOARDS: tuple[Dashboard, ...] = (
    Dashboard(
        "board-performance",
        "Board performance overview",
        "How each service performs against its framework: red, amber and green ratings by quarter, "
        "and each KPI against its target.",
    ),
    Dashboard(
        "contracts-renewals",
        "Contracts and renewals",
        "Which contracts end soon, the last date to serve notice, when a decision is needed "
        "and the extension options left.",
    ),
    Dashboard(
        "funding-value-for-money",
        "Funding and value for money",
        "Who pays for what by financial year, and the cost per referral, per completion and per "
        "positive outcome.",
    ),
    Dashboard(
        "outcomes",
        "Outcomes",
        "Change in outcome measures (SDQ, WEMWBS, SWEMWBS) for paired cases, with small samples flagged.",
    ),
    Dashboard(
        "provision-gaps",
        "Provision map and gaps",
        "Live services and spend by cohort, category and service type, and the cohorts with no "
        "live service at all.",
    ),
    Dashboard(
        "how-we-compare",
        "How we compare",
        "Each KPI for your area against the other areas that agreed to be compared (all areas, your "
        "region and similar areas), with intervals, funnel plots and the method beside each label. "
        "Boards see every area's point on the funnel plots; commissioners see their area's figures.",
    ),
)

BY_SLUG = {dashboard.slug: dashboard for dashboard in DASHBOARDS}
