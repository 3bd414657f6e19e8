"""Guest tokens for embedded dashboards, from Superset.

The views ask a `TokenIssuer` for a `Grant`; the app's default issuer asks
Superset through the service account (`monitor.superset.client`). Tests put
their own issuer in `app.extensions[ISSUER_KEY]`.

Every failure becomes `DashboardsUnavailable`, whose `message` is written for
the person at the page and whose `detail` (logged, and shown to
administrators) says what an operator should fix.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import Flask

from monitor.access.viewers import Viewer, rls_clauses
from monitor.dashboards.catalogue import Dashboard
from monitor.superset.client import SupersetClient, SupersetError, dashboard_resource

log = logging.getLogger(__name__)

ISSUER_KEY = "dashboards.token_issuer"

NOT_AVAILABLE = (
    "The dashboards are not available at the moment because the dashboard service is not "
    "responding. Try again in a few minutes. If it keeps happening, tell your administrator."
)


class DashboardsUnavailable(Exception):
    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(detail or message)
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class Grant:
    """What the browser needs to embed one dashboard as one viewer."""

    token: str
    embedded_id: str  # the dashboard's embedded uuid, not its id


class TokenIssuer(Protocol):
    def available(self) -> bool: ...

    def issue(self, dashboard: Dashboard, viewer: Viewer, user_id: int) -> Grant: ...


def public_url(config: Mapping[str, Any]) -> str:
    """SUPERSET_PUBLIC_URL, checked: where browsers load the dashboards from
    (it may carry a path when Superset is served under a prefix)."""
    url = (config.get("SUPERSET_PUBLIC_URL") or config.get("SUPERSET_URL") or "").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise DashboardsUnavailable(
            "The dashboards are not set up yet. Tell your administrator.",
            f"SUPERSET_PUBLIC_URL must be an http(s) address, got {url!r}",
        )
    return url


def public_origin(config: Mapping[str, Any]) -> str:
    """scheme://host[:port] of SUPERSET_PUBLIC_URL, for the page's frame-src."""
    parts = urlsplit(public_url(config))
    return f"{parts.scheme}://{parts.netloc}"


class SupersetTokenIssuer:
    """Guest tokens from the Superset at SUPERSET_URL, one client shared behind its lock."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self._client: SupersetClient | None = None
        self._lock = threading.Lock()

    def client(self) -> SupersetClient:
        with self._lock:
            if self._client is None:
                try:
                    self._client = SupersetClient.from_config(self.config)
                except SupersetError as error:
                    raise DashboardsUnavailable(
                        "The dashboards are not set up yet. Tell your administrator.", str(error)
                    ) from error
                # A page waits for this answer: fail fast rather than hang the browser.
                self._client.timeout = 15
            return self._client

    def available(self) -> bool:
        try:
            return self.client().health()
        except DashboardsUnavailable:
            return False

    def issue(self, dashboard: Dashboard, viewer: Viewer, user_id: int) -> Grant:
        client = self.client()
        try:
            found = client.dashboard(dashboard.slug)
            embedded_id = client.embedded_uuid(int(found["id"]))
            if embedded_id is None:
                raise DashboardsUnavailable(
                    f"The {dashboard.title} dashboard is not ready to show yet. Tell your administrator.",
                    f"dashboard {dashboard.slug!r} has no embedded configuration: "
                    "run `flask superset provision`",
                )
            token = client.guest_token(
                resources=[dashboard_resource(embedded_id)],
                rls=rls_clauses(viewer),
                # Superset logs this name; an id says who without copying personal details.
                user={"username": f"monitor-user-{user_id}", "first_name": "Monitor", "last_name": "user"},
            )
        except SupersetError as error:
            if error.status == 404:
                raise DashboardsUnavailable(
                    f"The {dashboard.title} dashboard has not been set up yet. Tell your administrator.",
                    f"Superset has no dashboard {dashboard.slug!r}: run `flask superset provision` ({error})",
                ) from error
            raise DashboardsUnavailable(NOT_AVAILABLE, str(error)) from error
        return Grant(token=token, embedded_id=embedded_id)


def token_issuer(app: Flask) -> TokenIssuer:
    issuer: TokenIssuer = app.extensions.setdefault(ISSUER_KEY, SupersetTokenIssuer(app.config))
    return issuer
