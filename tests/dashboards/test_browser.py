"""The Dashboards pages in a real browser, without Superset.

When Superset fails after the page has loaded (the usual way it fails: the
health check passed, the token request did not), the embedding script must
say so on the page rather than leave a blank box. The pages are also scanned
with axe-core. The embedded dashboard itself is tested against a real
Superset in tests/superset/test_embedding.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from monitor.access.viewers import Viewer
from monitor.dashboards.catalogue import Dashboard
from monitor.dashboards.tokens import ISSUER_KEY, DashboardsUnavailable, Grant
from monitor.db import db
from tests.conftest import DEMO_USERS
from tests.e2e.conftest import AXE_SCRIPT, serve, sign_in_with_browser

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ASSETS = [
    "monitor/static/js/superset-embedded-sdk.js",
    "monitor/static/js/dashboards.js",
    "monitor/static/css/app.css",
]
NOT_READY = "The Board performance overview dashboard has not been set up yet. Tell your administrator."


class NotProvisioned:
    """Superset answers its health check but has no such dashboard."""

    def available(self) -> bool:
        return True

    def issue(self, dashboard: Dashboard, viewer: Viewer, user_id: int) -> Grant:
        raise DashboardsUnavailable(NOT_READY, "no dashboard (test)")


@pytest.fixture
def base_url(demo: Flask) -> Iterator[str]:
    missing = [name for name in ASSETS if not (ROOT / name).is_file()]
    if missing:
        pytest.fail(
            f"Built assets are missing ({', '.join(missing)}): run `bash frontend/build.sh`", pytrace=False
        )
    demo.config.update(WTF_CSRF_ENABLED=True, SUPERSET_PUBLIC_URL="http://127.0.0.1:9")
    demo.extensions[ISSUER_KEY] = NotProvisioned()
    db.session.remove()  # requests run in server threads with their own sessions
    with serve(demo, "dashboards-browser") as url:
        yield url


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sign_in(page: Page, role: str) -> None:
    sign_in_with_browser(page, DEMO_USERS[role])


def serious_axe_violations(page: Page) -> list[dict[str, Any]]:
    page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    violations: list[dict[str, Any]] = page.evaluate(
        "async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def test_a_failed_token_request_is_explained_on_the_page(page: Page, artifacts: Path, backend: str) -> None:
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    sign_in(page, "lbbd")
    page.get_by_role("link", name="Dashboards").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboards")
    assert serious_axe_violations(page) == []
    page.get_by_role("link", name="Board performance overview").click()
    error = page.locator("#dashboard-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("The dashboard cannot be shown")
    expect(error).to_contain_text(NOT_READY)
    expect(error).to_be_focused()
    assert page.locator("#dashboard-mount iframe").count() == 0
    expect(page.locator("#dashboard-loading")).to_be_hidden()
    assert serious_axe_violations(page) == []
    page.screenshot(path=str(artifacts / f"dashboard-unavailable-{backend}.png"), full_page=True)
    assert script_errors == []


def test_a_provider_is_told_why_there_are_no_dashboards(page: Page) -> None:
    sign_in(page, "refuge")
    assert page.get_by_role("link", name="Dashboards").count() == 0
    response = page.goto("/dashboards")
    assert response is not None and response.status == 403
    expect(page.locator("#no-dashboards-reason")).to_contain_text(
        "Dashboards are for commissioners and boards"
    )
    assert serious_axe_violations(page) == []
