"""The app's list of dashboards agrees with the dashboards provisioned as code."""

from __future__ import annotations

from monitor.dashboards.catalogue import DASHBOARDS
from monitor.superset.assets import load_dashboards


def test_the_six_dashboards() -> None:
    assert [d.title for d in DASHBOARDS] == [
        "Board performance overview",
        "Contracts and renewals",
        "Funding and value for money",
        "Outcomes",
        "Provision map and gaps",
        "How we compare",
    ]


def test_slugs_and_titles_match_superset_config_assets() -> None:
    # The guest-token endpoint finds each dashboard in Superset by this slug.
    assert [(d.slug, d.title) for d in DASHBOARDS] == [(d.slug, d.title) for d in load_dashboards()]
