"""The app and Superset on one host keep their own session cookies.

Cookies do not keep to a port: the app on 127.0.0.1:<port> and Superset on
127.0.0.1:<other port> share every cookie. Were both called `session` (the
Flask default), the embedded dashboard's first answer would overwrite the
app's cookie and the next page of the app would ask the user to sign in
again. So in a real browser: sign in, watch a dashboard draw from a real
provisioned Superset, then follow three links in the app and still be
signed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import DEMO_USERS
from tests.e2e.conftest import STATIC_FILES, serve, sign_in_with_browser
from tests.superset.conftest import ProvisionedSuperset

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SIGNED_IN = "Signed in as"


@pytest.fixture
def app_url(provisioned_superset: ProvisionedSuperset) -> Iterator[str]:
    """The app that fed the warehouse, served over HTTP with CSRF protection on."""
    needed = [*STATIC_FILES, "monitor/static/js/superset-embedded-sdk.js", "monitor/static/js/dashboards.js"]
    missing = [name for name in needed if not (ROOT / name).is_file()]
    if missing:
        pytest.fail(
            f"Built assets are missing ({', '.join(missing)}): run `bash frontend/build.sh`", pytrace=False
        )
    app = provisioned_superset.app
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        with serve(app, "session-cookies-server") as url:
            yield url
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def context(browser: Browser, app_url: str) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    try:
        yield context
    finally:
        context.close()


def cookie_names(context: BrowserContext) -> list[str]:
    """The cookies the browser holds. It keeps them per host, not per port:
    the app's and Superset's are in one jar."""
    return sorted(cookie["name"] for cookie in context.cookies())


def expect_signed_in(page: Page, heading: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    assert "/sign-in" not in page.url, f"signed out: sent to {page.url}"
    expect(page.get_by_text(SIGNED_IN)).to_be_visible()


def test_a_dashboard_loading_leaves_the_user_signed_in(
    provisioned_superset: ProvisionedSuperset, context: BrowserContext, artifacts: Path
) -> None:
    superset = provisioned_superset
    dashboard = superset.dashboards["board-performance"]
    page = context.new_page()
    sign_in_with_browser(page, DEMO_USERS["bd_board"])
    page.wait_for_url("**/performance")  # a board member's home
    expect(page.get_by_text(SIGNED_IN)).to_be_visible()

    page.get_by_role("link", name="Dashboards").click()
    page.get_by_role("link", name=dashboard.title).click()
    title = f"{dashboard.title} dashboard for Barking and Dagenham Health and Wellbeing Board"
    inside = page.frame_locator(f'iframe[title="{title}"]')
    # Superset's first page load compiles and fetches its bundles: allow it time.
    for chart in dashboard.charts:
        expect(inside.get_by_text(chart.title, exact=True).first).to_be_visible(timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / f"session-cookies-{superset.backend}.png"), full_page=True)

    for link, heading in [("Contracts", "Contracts"), ("Renewals", "Renewals"), ("Funding", "Funding")]:
        page.get_by_role("navigation").get_by_role("link", name=link, exact=True).click()
        expect_signed_in(page, heading)

    # Superset did set a session cookie on this host while the dashboard
    # loaded (without one the test would prove nothing), under its own name.
    names = cookie_names(context)
    assert {"monitor_session", "superset_session"} <= set(names), names
