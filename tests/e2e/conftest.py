"""Fixtures for end-to-end tests: the demo app served over HTTP, and a real browser.

The app runs in a background thread with CSRF protection ON (unlike the unit
tests), so every form the browser submits carries a real token. One server is
started per database and hands each request to the current test's app (fresh
data every test). The browser is Debian's Chromium (never a downloaded one),
started once per test session; each test gets its own context (cookies) and page.

    .venv/bin/python -m pytest tests/e2e -q
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Response, expect
from werkzeug.serving import WSGIRequestHandler, make_server

from monitor.db import db
from monitor.demo import DEMO_PASSWORD
from monitor.kpis.demo import load_demo_performance

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATIC_FILES = [
    "monitor/static/css/app.css",
    "monitor/static/js/init.js",
    "monitor/static/js/govuk-frontend.min.js",
]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 10_000
# axe findings of these impacts fail a test; lesser ones are only reported.
FAILING_IMPACTS = {"serious", "critical"}
# The demo returns are loaded as at this date: every 2013/14 Q1 return (due
# 19 July) is in and accepted, while on the tests' 2 December 2013 the Q2
# returns are due but not yet sent. (As at 2 December itself the demo would
# already have stored Q2.)
RETURNS_AS_AT = date(2013, 10, 1)


@pytest.fixture(scope="session", autouse=True)
def static_assets() -> None:
    """The pages are unusable (and unscannable) without the built CSS and JavaScript."""
    missing = [name for name in STATIC_FILES if not (ROOT / name).is_file()]
    if missing:
        pytest.fail(
            f"Built frontend assets are missing ({', '.join(missing)}). "
            "Run `bash frontend/build.sh` from the repository root first.",
            pytrace=False,
        )


class _QuietHandler(WSGIRequestHandler):
    def log(self, *args: Any) -> None:
        """Keep test output readable: no access log."""


@dataclass
class LiveServer:
    base_url: str
    app: Flask

    def url(self, path: str) -> str:
        return self.base_url + path


class _CurrentApp:
    """The server's WSGI app: passes each request to the app of the test now running."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"No test is running"]
        return self.app(environ, start_response)


@dataclass
class _Server:
    base_url: str
    current: _CurrentApp


@contextmanager
def serve(app: Any, name: str) -> Iterator[str]:
    """Serve a WSGI app on a free localhost port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def _server(database_url: str) -> Iterator[_Server]:
    """One HTTP server on a free localhost port for each database."""
    current = _CurrentApp()
    with serve(current, "e2e-server") as base_url:
        yield _Server(base_url, current)


@pytest.fixture
def live_server(demo: Flask, _server: _Server, tmp_path: Path) -> Iterator[LiveServer]:
    """The demo data served over HTTP, with CSRF protection on."""
    demo.config["WTF_CSRF_ENABLED"] = True
    # Uploads held for an hour (annotated workbooks, warnings to confirm) go
    # here, not into the real instance folder.
    demo.instance_path = str(tmp_path)
    # Hand the database back: requests run in server threads, each with its own
    # app context and (thread-local) session.
    db.session.remove()
    _server.current.app = demo
    try:
        yield LiveServer(_server.base_url, demo)
    finally:
        _server.current.app = None


@pytest.fixture
def returns_demo(demo: Flask) -> Flask:
    """The demo plus the KPI library, every demo framework and the Q1 2013/14
    returns, loaded through the real template, checks and review (see
    RETURNS_AS_AT): the Barking and Dagenham refuge (LBBD-DV-002) owes Q2."""
    load_demo_performance(db, RETURNS_AS_AT)
    db.session.remove()
    return demo


@dataclass
class PageProblems:
    """What went wrong in the browser that a test would not otherwise notice."""

    server_errors: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh browser context and page for one test, closed afterwards.

    The test fails if the server answered 5xx, a script threw, or the
    Content-Security-Policy blocked something the pages need.
    """
    context = browser.new_context(base_url=live_server.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    problems = PageProblems()

    def on_response(response: Response) -> None:
        if response.status >= 500:
            problems.server_errors.append(f"{response.status} {response.url}")

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.script_errors.append(message.text)

    page = context.new_page()
    page.on("response", on_response)
    page.on("pageerror", lambda error: problems.script_errors.append(str(error)))
    page.on("console", on_console)
    try:
        yield page
    finally:
        context.close()
    assert not problems.server_errors, f"server errors: {problems.server_errors}"
    assert not problems.script_errors, f"browser script errors: {problems.script_errors}"


def sign_in_with_browser(
    page: Page, email: str, password: str = DEMO_PASSWORD, path: str = "/sign-in"
) -> None:
    """Sign in through the sign-in pages as a person would: the email address,
    then the password, then (for someone with two-factor authentication on) a
    code from their authenticator app, computed here from their secret."""
    from tests.conftest import two_factor_code

    page.goto(path)
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/sign-in")
    if "/sign-in/two-factor" in page.url:
        page.get_by_label("Code from your authenticator app").fill(two_factor_code(email))
        page.get_by_role("button", name="Continue").click()
    # Wherever the home page sends this role: past every sign-in step.
    page.wait_for_url(lambda url: not urlsplit(url).path.startswith("/sign-in"))


@pytest.fixture
def sign_in(page: Page) -> Callable[[str], None]:
    """Sign in through the sign-in form, as a person would."""

    def do_sign_in(email: str, password: str = DEMO_PASSWORD) -> None:
        sign_in_with_browser(page, email, password)
        expect(page.get_by_text("Signed in as")).to_be_visible()

    return do_sign_in


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        pytest.fail(
            f"{AXE_SCRIPT} is missing: run `npm ci` (axe-core is pinned in package.json).", pytrace=False
        )
    return AXE_SCRIPT.read_text(encoding="utf-8")


@pytest.fixture
def axe(page: Page, axe_source: str) -> Callable[[], list[dict[str, Any]]]:
    """Run axe-core on the current page; returns its violations.

    axe is evaluated through the DevTools protocol rather than added as a
    <script> tag, which the app's Content-Security-Policy rightly refuses.
    """

    def scan() -> list[dict[str, Any]]:
        page.wait_for_load_state("load")
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(axe_source)
        return page.evaluate(
            "async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations"
        )

    return scan


def describe(violations: list[dict[str, Any]]) -> str:
    """axe's violations, one line each, with the elements they were found on."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(node['target'])}")
    return "\n".join(lines)


def assert_accessible(axe: Callable[[], list[dict[str, Any]]], name: str) -> None:
    """Fail, naming the page, if axe finds anything serious or critical on it."""
    failing = [v for v in axe() if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"{name}:\n{describe(failing)}"


# The document is no wider than the window: nothing makes the whole page scroll sideways.
FITS_THE_WINDOW = "() => document.documentElement.scrollWidth <= window.innerWidth"


def widest_elements(page: Page) -> list[str]:
    """The elements that reach past the window's right edge (leaving out those
    inside something that scrolls or clips), outermost first, to say what makes
    a page too wide."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
          .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
          .filter((element) => {
            for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
              if (getComputedStyle(up).overflowX !== 'visible') return false;
            }
            return true;
          })
          .slice(0, 5)
          .map((element) => element.tagName.toLowerCase()
            + (element.id ? '#' + element.id : '')
            + (element.className && typeof element.className === 'string'
               ? '.' + element.className.trim().split(/\\s+/).join('.') : ''))"""
    )


def assert_fits_the_window(page: Page, name: str) -> None:
    """Fail, naming the page and what sticks out, if the page scrolls sideways."""
    if not page.evaluate(FITS_THE_WINDOW):
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        raise AssertionError(
            f"{name} ({page.url}) is {width[0]}px wide in a {width[1]}px window; "
            f"too wide: {widest_elements(page)}"
        )


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url("**/sign-in")


def open_corrected_upload(page: Page) -> None:
    """Once a return is submitted, its upload form folds away behind "Upload a
    corrected version": open it, where it is folded, before uploading again."""
    corrected = page.locator("#upload-corrected")
    if corrected.count() and corrected.get_attribute("open") is None:
        corrected.locator("summary").click()
