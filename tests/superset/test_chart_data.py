"""Every chart on every dashboard returns, through Superset's chart-data
API, exactly what plain SQL over the mart gives: as the admin (every
viewer's rows) and as a guest whose token allows one viewer (only that
viewer's rows, for a commissioner and for a board)."""

from __future__ import annotations

import pytest

from tests.superset.conftest import ProvisionedSuperset
from tests.superset.expected import actual_rows, expected_rows

SLUGS = ["board-performance", "contracts-renewals", "funding-value-for-money", "outcomes", "provision-gaps"]
# Barking and Dagenham Council (a commissioner: its own contracts, exact) and
# the Barking and Dagenham Health and Wellbeing Board (suppressed), and the
# Halton Domestic Abuse Forum, whose small outcome samples are suppressed.
VIEWERS = ["organisation:1", "partnership:1", "partnership:3"]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_chart_matches_the_warehouse(provisioned_superset: ProvisionedSuperset, slug: str) -> None:
    superset = provisioned_superset
    dashboard = superset.dashboards[slug]
    tokens = {viewer: superset.guest_token(viewer, [slug]) for viewer in VIEWERS}
    seen_rows = 0
    for chart in dashboard.charts:
        spec = chart.spec
        context = superset.grouped_query_context(chart)
        admin = actual_rows(spec, superset.chart_data(chart, query_context=context))
        assert admin == expected_rows(superset.warehouse, spec), f"{slug}: {chart.title} (admin)"
        assert admin, f"{slug}: {chart.title} shows nothing at all"
        for viewer, token in tokens.items():
            guest = actual_rows(spec, superset.chart_data(chart, guest_token=token, query_context=context))
            assert guest == expected_rows(superset.warehouse, spec, viewer), (
                f"{slug}: {chart.title} as {viewer}"
            )
            seen_rows += len(guest)
    assert seen_rows, f"no viewer saw any row on {slug}"


@pytest.mark.parametrize("slug", SLUGS)
def test_stored_charts_answer_as_they_are(provisioned_superset: ProvisionedSuperset, slug: str) -> None:
    """GET /api/v1/chart/<id>/data runs the stored query context, reshaping
    included: every chart's must work (Superset answers 400 without one)."""
    superset = provisioned_superset
    for chart in superset.dashboards[slug].charts:
        body = superset.client.get(f"/api/v1/chart/{chart.id}/data/")
        assert body["result"][0]["rowcount"] > 0, f"{slug}: {chart.title}"


def test_a_guest_cannot_read_a_dashboard_outside_its_token(provisioned_superset: ProvisionedSuperset) -> None:
    from monitor.superset.client import SupersetError

    superset = provisioned_superset
    token = superset.guest_token("organisation:1", ["outcomes"])
    chart = superset.dashboards["funding-value-for-money"].charts[0]
    with pytest.raises(SupersetError) as refused:
        superset.chart_data(chart, guest_token=token)
    assert refused.value.status == 403
