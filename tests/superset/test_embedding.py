"""Embedded dashboards against a real Superset: one viewer never receives another's rows.

Row-level security for embedded dashboards has had upstream bugs (apache/superset
#28314, #34203, #26201), so nothing here trusts it: for every demo
commissioner and board user, a guest token is fetched through the app's own
endpoint (as the Dashboards page does), then EVERY chart of EVERY dashboard
is queried through that token, as the embedded dashboard queries it, and
compared with the same query run by the admin with an explicit
`viewer = <the user's key>` filter. Reading a dashboard's dataset directly
(Superset's "drill to detail": no chart, any columns) is refused to a guest.

The expected viewer key comes from the user's record in the app database
(`organisation:<organisation_id>` or `partnership:<partnership_id>`), not
from the code under test.
"""

from __future__ import annotations

import base64
import copy
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Error, Response, expect
from sqlalchemy import func, select

from etl.schema import MARTS
from monitor.auth.models import User
from monitor.db import db
from monitor.superset.client import SupersetError
from tests.conftest import DEMO_USERS
from tests.e2e.conftest import STATIC_FILES, serve, sign_in_with_browser
from tests.superset.conftest import ChartInfo, DashboardInfo, ProvisionedSuperset

VIEWER_ROLES = ["lbbd", "ccg", "halton", "westminster", "bd_board", "halton_board"]
ROOT = Path(__file__).resolve().parents[2]


def expected_viewer(app: Flask, role: str) -> str:
    """The viewer key from the user's database record: the oracle for every check."""
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == DEMO_USERS[role])).scalar_one()
        key = (
            f"organisation:{user.organisation_id}"
            if user.role == "commissioner"
            else f"partnership:{user.partnership_id}"
        )
        db.session.remove()
    return key


def grants_through_the_app(superset: ProvisionedSuperset, role: str) -> dict[str, dict[str, Any]]:
    """Sign in as the user and ask the app's endpoint for a token per dashboard."""
    client = superset.app.test_client()
    signed_in = client.post("/sign-in", data={"email": DEMO_USERS[role], "password": "demo-password-2013"})
    assert signed_in.status_code == 302, f"{role} could not sign in"
    grants = {}
    for slug in superset.dashboards:
        # A board or commissioner asking for someone else's rows is ignored.
        response = client.post(f"/dashboards/{slug}/guest-token", data={"viewer": "partnership:1"})
        assert response.status_code == 200, (role, slug, response.get_data(as_text=True))
        grants[slug] = response.json
    return grants


def token_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def as_multiset(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(json.dumps(row, sort_keys=True, default=str) for row in rows)


_stored: dict[tuple[str, int], dict[str, Any]] = {}  # by (Superset home, chart id)


def stored_context(superset: ProvisionedSuperset, chart: ChartInfo) -> dict[str, Any]:
    """The chart's stored query context (a fresh copy; fetched once per Superset)."""
    key = (str(superset.home), chart.id)
    if key not in _stored:
        _stored[key] = superset.stored_query_context(chart)
    return copy.deepcopy(_stored[key])


_everyone: dict[tuple[str, int], Counter[str]] = {}


def everyones_rows(superset: ProvisionedSuperset, chart: ChartInfo) -> Counter[str]:
    """The chart's rows as the admin sees them, with no viewer rule (fetched once per Superset)."""
    key = (str(superset.home), chart.id)
    if key not in _everyone:
        _everyone[key] = as_multiset(
            superset.chart_data(chart, query_context=stored_context(superset, chart))
        )
    return _everyone[key]


def with_viewer_filter(context: dict[str, Any], viewer: str, op: str = "==") -> dict[str, Any]:
    changed = copy.deepcopy(context)
    for query in changed["queries"]:
        query["filters"] = [*query.get("filters", []), {"col": "viewer", "op": op, "val": viewer}]
    return changed


def rows_per_viewer(dataset_id: int, dashboard_id: int) -> dict[str, Any]:
    """A query on a whole dataset, shaped as the dashboard's "drill to detail"
    sends it: no chart, so any columns may be asked for, the `viewer` column too
    (Superset 6.1 lets a guest do this; the monitor's security manager does not)."""
    return {
        "datasource": {"id": dataset_id, "type": "table"},
        "queries": [
            {
                "columns": ["viewer"],
                "metrics": [{"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": "rows"}],
                "filters": [],
                "orderby": [],
                "row_limit": 100_000,
            }
        ],
        "form_data": {"datasource": f"{dataset_id}__table", "viz_type": "table", "dashboardId": dashboard_id},
        "result_format": "json",
        "result_type": "full",
    }


def datasets_of(superset: ProvisionedSuperset, dashboard: DashboardInfo) -> dict[int, str]:
    found = superset.client.get(f"/api/v1/dashboard/{dashboard.id}/datasets")["result"]
    return {int(d["id"]): d["table_name"] for d in found}


def warehouse_count(superset: ProvisionedSuperset, table: str, viewer: str) -> int:
    mart = {t.name: t for t in MARTS}[table]
    with superset.warehouse.engine.connect() as connection:
        return int(
            connection.scalar(select(func.count()).select_from(mart).where(mart.c.viewer == viewer)) or 0
        )


@pytest.mark.parametrize("role", VIEWER_ROLES)
def test_every_chart_returns_only_the_viewers_rows(
    provisioned_superset: ProvisionedSuperset, role: str
) -> None:
    superset = provisioned_superset
    viewer = expected_viewer(superset.app, role)
    grants = grants_through_the_app(superset, role)
    total_rows = 0
    narrowed = []  # charts whose rows differ from the admin's unfiltered ones
    for slug, dashboard in superset.dashboards.items():
        grant = grants[slug]
        assert grant["dashboardId"] == dashboard.embedded_uuid
        assert grant["supersetDomain"] == superset.base_url
        claims = token_claims(grant["token"])
        assert claims["rls_rules"] == [{"clause": f"viewer = '{viewer}'"}], (role, slug)
        assert claims["resources"] == [{"type": "dashboard", "id": dashboard.embedded_uuid}], (role, slug)
        for chart in dashboard.charts:
            context = stored_context(superset, chart)
            as_guest = superset.chart_data(chart, guest_token=grant["token"], query_context=context)
            as_admin = superset.chart_data(chart, query_context=with_viewer_filter(context, viewer))
            assert as_multiset(as_guest) == as_multiset(as_admin), (role, slug, chart.title)
            if as_multiset(as_guest) != everyones_rows(superset, chart):
                narrowed.append(chart.title)
            total_rows += len(as_guest)
        for dataset_id, table in datasets_of(superset, dashboard).items():
            with pytest.raises(SupersetError) as refusal:
                superset.client.chart_data(
                    rows_per_viewer(dataset_id, dashboard.id), guest_token=grant["token"]
                )
            assert refusal.value.status == 403, (role, slug, table)
    assert total_rows > 0, f"{role} ({viewer}) saw no rows at all"
    assert narrowed, f"no chart was narrowed for {role}: the comparison would prove nothing"


def test_every_viewer_has_rows_in_the_warehouse(provisioned_superset: ProvisionedSuperset) -> None:
    # Otherwise "only the viewer's rows" could pass on empty answers.
    for role in VIEWER_ROLES:
        viewer = expected_viewer(provisioned_superset.app, role)
        assert warehouse_count(provisioned_superset, "mart_board_performance", viewer) > 0, role


def test_a_token_for_one_dashboard_cannot_read_another(provisioned_superset: ProvisionedSuperset) -> None:
    superset = provisioned_superset
    grants = grants_through_the_app(superset, "bd_board")
    refused = 0
    for slug, grant in grants.items():
        own = superset.dashboards[slug]
        own_datasets = datasets_of(superset, own)
        for other in superset.dashboards.values():
            if other.slug == slug:
                continue
            for chart in other.charts:
                context = stored_context(superset, chart)
                for dashboard_id in (other.id, own.id):  # as the other dashboard, and passed off as this one
                    context["form_data"]["dashboardId"] = dashboard_id
                    with pytest.raises(SupersetError) as refusal:
                        superset.chart_data(chart, guest_token=grant["token"], query_context=context)
                    assert refusal.value.status == 403, (slug, other.slug, chart.title)
                    refused += 1
            for dataset_id, table in datasets_of(superset, other).items():
                if dataset_id in own_datasets:
                    continue
                with pytest.raises(SupersetError) as refusal:
                    superset.client.chart_data(
                        rows_per_viewer(dataset_id, own.id), guest_token=grant["token"]
                    )
                assert refusal.value.status == 403, (slug, table)
    assert refused > 0


def test_a_guest_cannot_widen_its_rows(provisioned_superset: ProvisionedSuperset) -> None:
    """Filters and SQL a guest adds are refused; were they ever let through,
    they would still be ANDed with its rule."""
    superset = provisioned_superset
    viewer = expected_viewer(superset.app, "halton")
    other = expected_viewer(superset.app, "bd_board")
    token = grants_through_the_app(superset, "halton")["board-performance"]["token"]
    dashboard = superset.dashboards["board-performance"]
    table = next(chart for chart in dashboard.charts if chart.viz_type == "table")
    context = stored_context(superset, table)
    assert superset.chart_data(table, guest_token=token, query_context=context)
    for widened in [with_viewer_filter(context, other), with_viewer_filter(context, viewer, op="!=")]:
        try:
            rows = superset.chart_data(table, guest_token=token, query_context=widened)
        except SupersetError as error:
            assert error.status == 403
        else:
            assert rows == []
    for where in ["1=1) OR (1=1", f"viewer = '{other}') OR (1=1"]:
        breakout = copy.deepcopy(context)
        breakout["queries"][0]["extras"] = {**breakout["queries"][0].get("extras", {}), "where": where}
        try:
            rows = superset.chart_data(table, guest_token=token, query_context=breakout)
        except SupersetError as error:
            assert error.status in (400, 403), where
        else:  # if Superset ever accepts it, the rule must still hold
            assert as_multiset(rows) == as_multiset(
                superset.chart_data(table, query_context=with_viewer_filter(context, viewer))
            )


def test_a_forged_or_altered_token_reads_nothing(provisioned_superset: ProvisionedSuperset) -> None:
    superset = provisioned_superset
    chart: ChartInfo = superset.dashboards["outcomes"].charts[0]
    context = stored_context(superset, chart)
    real = grants_through_the_app(superset, "halton")["outcomes"]["token"]
    header, payload, signature = real.split(".")
    claims = token_claims(real)
    claims["rls_rules"] = []  # the unrestricted token an attacker would want
    widened = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    for token in [
        "not-a-token",
        f"{header}.{widened}.{signature}",
        f"{header}.{payload}.{signature[:-4]}AAAA",
    ]:
        with pytest.raises(SupersetError) as refusal:
            superset.chart_data(chart, guest_token=token, query_context=context)
        assert refusal.value.status in (401, 403), token


# --- in a browser -------------------------------------------------------------------


@pytest.fixture
def app_server(provisioned_superset: ProvisionedSuperset) -> Iterator[str]:
    """The app that fed the warehouse, served over HTTP with CSRF protection on."""
    missing = [name for name in STATIC_FILES if not (ROOT / name).is_file()]
    for name in ["monitor/static/js/superset-embedded-sdk.js", "monitor/static/js/dashboards.js"]:
        if not (ROOT / name).is_file():
            missing.append(name)
    if missing:
        pytest.fail(
            f"Built assets are missing ({', '.join(missing)}): run `bash frontend/build.sh`", pytrace=False
        )
    app = provisioned_superset.app
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        with serve(app, "embedding-server") as url:
            yield url
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.e2e
def test_dashboard_page_shows_the_embedded_dashboard(
    provisioned_superset: ProvisionedSuperset, app_server: str, artifacts: Path, browser: Browser
) -> None:
    """Every dashboard, embedded in the app's page as a board member's guest:
    each chart draws, and every query the frame sent was answered. This is
    what the guest role's allow-list and the chart-data guard must leave working."""
    superset = provisioned_superset
    problems: list[str] = []
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # The app's own page must run clean; Superset's frame has its own policy.
        if message.type == "error" and message.location.get("url", "").startswith(app_server):
            problems.append(message.text)

    def on_page_error(error: Error) -> None:
        problems.append(f"{error.name}: {error.message}")

    def on_response(response: Response) -> None:
        # The front end's own event log (/superset/log/) is a write the guest
        # role does not hold; refusing it changes nothing on the page.
        if response.url.startswith(superset.base_url + "/api/") and response.status >= 400:
            refused.append(f"{response.status} {response.request.method} {response.url}")

    context = browser.new_context(base_url=app_server, viewport={"width": 1280, "height": 900})
    try:
        context.set_default_timeout(30_000)
        signing_in = context.new_page()
        sign_in_with_browser(signing_in, DEMO_USERS["bd_board"])
        signing_in.wait_for_url("**/performance")  # a board member's home
        signing_in.close()
        for dashboard in superset.dashboards.values():
            # A page of its own each: leaving a page while its frame still talks
            # to Superset is not what a person sees.
            page = context.new_page()
            page.on("console", on_console)
            page.on("pageerror", on_page_error)
            page.on("response", on_response)
            page.goto("/dashboards")
            page.get_by_role("link", name=dashboard.title, exact=True).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(dashboard.title)
            expect(page.locator("#figures-note")).to_contain_text("are suppressed")
            title = f"{dashboard.title} dashboard for Barking and Dagenham Health and Wellbeing Board"
            frame = page.locator(f'iframe[title="{title}"]')
            expect(frame).to_be_visible()
            assert frame.get_attribute("src").startswith(
                f"{superset.base_url}/embedded/{dashboard.embedded_uuid}"
            )
            inside = page.frame_locator(f'iframe[title="{title}"]')
            # Superset's first page load compiles and fetches its bundles: allow it time.
            for chart in dashboard.charts:
                expect(inside.get_by_text(chart.title, exact=True).first).to_be_visible(timeout=60_000)
            charts = inside.locator('[data-test="chart-container"]')
            expect(charts).to_have_count(len(dashboard.charts), timeout=60_000)
            expect(
                inside.locator('[data-test="chart-container"] [data-test="loading-indicator"]')
            ).to_have_count(0, timeout=60_000)
            # Let the charts draw before the picture is taken.
            page.wait_for_timeout(2000)
            alerts = inside.locator('[data-test="chart-container"] [role="alert"]').all_inner_texts()
            assert alerts == [], (dashboard.slug, alerts)
            page.screenshot(
                path=str(artifacts / f"dashboard-embedded-{superset.backend}-{dashboard.slug}.png"),
                full_page=True,
            )
            assert not page.locator("#dashboard-error").is_visible()
            for event, listener in [
                ("console", on_console),
                ("pageerror", on_page_error),
                ("response", on_response),
            ]:
                page.remove_listener(event, listener)
            page.close()
    finally:
        context.close()
    assert not problems, problems
    assert not refused, refused
