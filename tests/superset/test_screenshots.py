"""Each dashboard rendered by Superset's own front end in headless Chromium,
signed in as the admin through /login/: every chart draws without an error,
a screenshot is kept in test-artifacts/, and every query the front end sent
is replayed with a guest token.

The replay is the check that matters for embedding: Superset refuses a
guest whose request differs from the stored chart ("Guest user cannot
modify chart payload"), so the stored query contexts must match what the
front end really sends. The same viewer as a guest must get exactly what
the admin saw, and another viewer must get none of it.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Request, sync_playwright

from monitor.superset.client import SupersetError
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.superset.conftest import ProvisionedSuperset

SLUGS = [
    "board-performance",
    "contracts-renewals",
    "funding-value-for-money",
    "outcomes",
    "provision-gaps",
    "how-we-compare",
]
RENDER_TIMEOUT_S = 60
# Halton Borough Council: no Barking and Dagenham contract is its.
OTHER_VIEWER = "organisation:3"


@dataclass
class ChartRequest:
    body: dict[str, Any]
    status: int
    response: dict[str, Any] | None


@dataclass
class Rendered:
    seconds: float
    charts_drawn: int
    chart_errors: list[str]
    requests: list[ChartRequest] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)


def _drawn(page: Page) -> int:
    """Chart containers on the page that are not showing a spinner."""
    containers = page.locator('[data-test="chart-container"]').count()
    return containers - page.locator('[data-test="chart-container"] [data-test="loading-indicator"]').count()


def _wait_until_drawn(page: Page, charts: int, deadline: float) -> None:
    """Until every chart has drawn, and stays drawn: the grid re-mounts once
    the "Viewing as" filter has its value, so one good look is not enough."""
    steady = 0
    while steady < 3 and time.monotonic() < deadline:
        ready = _drawn(page) == charts and not page.locator('[data-test="loading-indicator"]').count()
        steady = steady + 1 if ready else 0
        page.wait_for_timeout(300)


def _render(superset: ProvisionedSuperset, artifacts: Path) -> dict[str, Rendered]:
    rendered: dict[str, Rendered] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(RENDER_TIMEOUT_S * 1000)
        page.goto(f"{superset.base_url}/login/")
        page.fill("#username", superset.admin_username)
        page.fill("#password", superset.admin_password)
        page.keyboard.press("Enter")
        page.wait_for_url("**/superset/welcome/**")
        for slug, dashboard in superset.dashboards.items():
            sent: list[Request] = []
            errors: list[str] = []
            on_request = lambda r, sent=sent: sent.append(r) if "/api/v1/chart/data" in r.url else None  # noqa: E731
            on_error = lambda e, errors=errors: errors.append(str(e))  # noqa: E731
            page.on("request", on_request)
            page.on("pageerror", on_error)
            started = time.monotonic()
            page.goto(f"{superset.base_url}/superset/dashboard/{slug}/")
            # The "Viewing as" filter's values first, then one query per chart;
            # each chart then draws (a slow query shows "Waiting on ...").
            deadline = started + RENDER_TIMEOUT_S
            while len(sent) < len(dashboard.charts) + 1 and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            for request in sent:
                request.response()  # waits for the answer
            _wait_until_drawn(page, len(dashboard.charts), deadline)
            seconds = time.monotonic() - started
            # Superset draws only the charts in view and redraws on a resize, so
            # make the window as tall as the dashboard, then wait for it again.
            height = page.evaluate("() => document.documentElement.scrollHeight")
            page.set_viewport_size({"width": 1400, "height": max(1000, int(height))})
            page.wait_for_timeout(500)
            _wait_until_drawn(page, len(dashboard.charts), deadline)
            page.wait_for_timeout(1500)  # let the charts' animations finish before the picture
            page.screenshot(path=str(artifacts / f"superset-{superset.backend}-{slug}.png"))
            requests = []
            for request in sent:
                response = request.response()
                requests.append(
                    ChartRequest(
                        json.loads(request.post_data or "{}"),
                        response.status if response else 0,
                        response.json() if response and response.ok else None,
                    )
                )
            rendered[slug] = Rendered(
                seconds=seconds,
                charts_drawn=_drawn(page),
                chart_errors=page.locator('[data-test="chart-container"] [role="alert"]').all_inner_texts(),
                requests=requests,
                script_errors=errors,
            )
            page.set_viewport_size({"width": 1400, "height": 1000})
            page.remove_listener("request", on_request)
            page.remove_listener("pageerror", on_error)
        browser.close()
    return rendered


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """test-artifacts/ at the repository root, where people look for the screenshots."""
    path = Path(__file__).resolve().parents[2] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="module")
def rendered(provisioned_superset: ProvisionedSuperset, artifacts: Path) -> dict[str, Rendered]:
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium was not found at {CHROMIUM}: `apt-get install chromium`", pytrace=False)
    # Playwright's sync API runs one instance per thread; the browser tests
    # may hold one open in this thread for the whole session.
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["rendered"] = _render(provisioned_superset, artifacts)
        except BaseException as error:  # reported in the test's thread
            outcome["error"] = error

    worker = threading.Thread(target=work, name="superset-screenshots")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    result: dict[str, Rendered] = outcome["rendered"]
    return result


def _viewer_shown(superset: ProvisionedSuperset, slug: str) -> str:
    """The viewer the "Viewing as" filter picks first (the first name A to Z)."""
    table = superset.dashboards[slug].spec.viewer_filter_dataset.table
    rows = superset.warehouse.rows(
        f"SELECT viewer FROM {table} WHERE viewer_name = (SELECT MIN(viewer_name) FROM {table}) LIMIT 1"  # noqa: S608
    )
    return str(rows[0]["viewer"])


def _viewer_name(superset: ProvisionedSuperset, viewer: str) -> str:
    rows = superset.warehouse.rows(
        "SELECT DISTINCT viewer_name FROM mart_renewals WHERE viewer = :viewer", viewer=viewer
    )
    return str(rows[0]["viewer_name"])


def _data(response: dict[str, Any]) -> list[str]:
    return sorted(json.dumps(row, sort_keys=True) for result in response["result"] for row in result["data"])


@pytest.mark.parametrize("slug", SLUGS)
def test_dashboard_renders_every_chart(
    provisioned_superset: ProvisionedSuperset, rendered: dict[str, Rendered], artifacts: Path, slug: str
) -> None:
    result = rendered[slug]
    charts = provisioned_superset.dashboards[slug].charts
    assert (artifacts / f"superset-{provisioned_superset.backend}-{slug}.png").stat().st_size > 20_000
    summary = f"{slug}: {result}"
    assert result.charts_drawn == len(charts), summary
    assert result.chart_errors == [], summary
    assert result.script_errors == [], summary
    assert [r.status for r in result.requests] == [200] * len(result.requests), summary
    asked = {r.body["form_data"].get("slice_id") for r in result.requests}
    assert {c.id for c in charts} <= asked, "a chart sent no query"
    # The "Viewing as" filter applies to every chart before it loads.
    for request in result.requests:
        if request.body["form_data"].get("slice_id"):
            filters = [f["col"] for q in request.body["queries"] for f in q.get("filters", [])]
            assert "viewer_name" in filters, request.body["form_data"]["slice_id"]
    print(f"superset: {slug} rendered in {result.seconds:.1f}s")


@pytest.mark.parametrize("slug", SLUGS)
def test_a_guest_gets_what_the_dashboard_asked_for_and_no_more(
    provisioned_superset: ProvisionedSuperset, rendered: dict[str, Rendered], slug: str
) -> None:
    superset = provisioned_superset
    viewer = _viewer_shown(superset, slug)
    same = superset.guest_token(viewer, [slug])
    other = superset.guest_token(OTHER_VIEWER, [slug])
    other_name = _viewer_name(superset, OTHER_VIEWER)
    for request in rendered[slug].requests:
        label = request.body["form_data"].get("slice_id") or request.body["form_data"].get("native_filter_id")
        try:
            as_guest = superset.client.chart_data(request.body, guest_token=same)
        except SupersetError as error:
            pytest.fail(f"{slug}: the guest was refused the query chart {label} sent: {error}")
        assert request.response is not None
        if request.body["form_data"].get("type") == "NATIVE_FILTER":
            # The admin may choose any viewer; the guest is offered only its own.
            names = [row["viewer_name"] for result in as_guest for row in result["data"]]
            assert names == [_viewer_name(superset, viewer)]
            continue
        assert _data({"result": as_guest}) == _data(request.response), f"{slug}: chart {label}"
        # Another viewer's token on the same request: only its own rows.
        answers = superset.client.chart_data(request.body, guest_token=other)
        for row in (row for result in answers for row in result["data"]):
            if "viewer_name" in row:
                assert row["viewer_name"] == other_name
            else:
                # Only an aggregate over no rows may come back (NULL, or 0 for a count).
                assert all(value is None or value == 0 for value in row.values()), (slug, label, row)
