"""Asking Superset for a guest token: what is asked for, and what each failure tells people."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.access.viewers import organisation_viewer, partnership_viewer
from monitor.dashboards.catalogue import BY_SLUG
from monitor.dashboards.tokens import (
    DashboardsUnavailable,
    SupersetTokenIssuer,
    public_origin,
    public_url,
)
from monitor.superset.client import SupersetError

OUTCOMES = BY_SLUG["outcomes"]


class StubClient:
    """Answers as Superset would, and records the guest-token request."""

    def __init__(
        self, *, dashboard: Any = None, embedded: str | None = "embed-uuid-1", token_error: Any = None
    ):
        self._dashboard = dashboard if dashboard is not None else {"id": 4}
        self._embedded = embedded
        self._token_error = token_error
        self.asked: list[dict[str, Any]] = []

    def dashboard(self, slug: str) -> dict[str, Any]:
        if isinstance(self._dashboard, Exception):
            raise self._dashboard
        return dict(self._dashboard)

    def embedded_uuid(self, dashboard_id: int) -> str | None:
        assert dashboard_id == 4
        return self._embedded

    def guest_token(
        self, resources: list[dict[str, str]], rls: list[dict[str, Any]], user: Any = None
    ) -> str:
        if self._token_error:
            raise self._token_error
        self.asked.append({"resources": resources, "rls": rls, "user": user})
        return "signed.jwt.token"

    def health(self) -> bool:
        return True


def issuer_with(client: StubClient) -> SupersetTokenIssuer:
    issuer = SupersetTokenIssuer(
        {"SUPERSET_PASSWORD": "x", "SUPERSET_URL": "http://s", "SUPERSET_USERNAME": "a"}
    )
    issuer._client = client  # type: ignore[assignment]
    return issuer


def test_a_token_names_one_dashboard_and_carries_the_viewers_rule() -> None:
    client = StubClient()
    grant = issuer_with(client).issue(OUTCOMES, partnership_viewer(3, "Halton Domestic Abuse Forum"), 17)
    assert (grant.token, grant.embedded_id) == ("signed.jwt.token", "embed-uuid-1")
    assert client.asked == [
        {
            "resources": [{"type": "dashboard", "id": "embed-uuid-1"}],
            "rls": [{"clause": "viewer = 'partnership:3'"}],
            "user": {"username": "monitor-user-17", "first_name": "Monitor", "last_name": "user"},
        }
    ]


@pytest.mark.parametrize(
    ("client", "message", "detail"),
    [
        (
            StubClient(dashboard=SupersetError("Superset refused GET (404): Not found", 404)),
            "The Outcomes dashboard has not been set up yet. Tell your administrator.",
            "run `flask superset provision`",
        ),
        (
            StubClient(embedded=None),
            "The Outcomes dashboard is not ready to show yet. Tell your administrator.",
            "has no embedded configuration",
        ),
        (
            StubClient(token_error=SupersetError("Superset is not reachable at http://s (refused)")),
            "The dashboards are not available at the moment because the dashboard service is not responding.",
            "not reachable",
        ),
        (
            StubClient(token_error=SupersetError("Superset refused POST (403): Forbidden", 403)),
            "The dashboards are not available at the moment",
            "(403)",
        ),
    ],
)
def test_failures_say_what_to_do(client: StubClient, message: str, detail: str) -> None:
    with pytest.raises(DashboardsUnavailable) as failure:
        issuer_with(client).issue(OUTCOMES, organisation_viewer(1, "Council"), 1)
    assert failure.value.message.startswith(message)
    assert detail in failure.value.detail


def test_missing_password_is_reported_not_raised() -> None:
    issuer = SupersetTokenIssuer(
        {"SUPERSET_PASSWORD": "", "SUPERSET_URL": "http://s", "SUPERSET_USERNAME": "admin"}
    )
    assert issuer.available() is False
    with pytest.raises(DashboardsUnavailable, match="SUPERSET_PASSWORD is not set"):
        issuer.issue(OUTCOMES, organisation_viewer(1, "Council"), 1)


@pytest.mark.parametrize(
    ("configured", "url", "origin"),
    [
        ("http://127.0.0.1:8088", "http://127.0.0.1:8088", "http://127.0.0.1:8088"),
        ("https://bi.example.org/superset/", "https://bi.example.org/superset", "https://bi.example.org"),
    ],
)
def test_public_address(configured: str, url: str, origin: str) -> None:
    config = {"SUPERSET_PUBLIC_URL": configured}
    assert (public_url(config), public_origin(config)) == (url, origin)


@pytest.mark.parametrize(
    "configured", ["", "127.0.0.1:8088", "javascript:alert(1)", "http://x/?a=1", "ftp://x"]
)
def test_unsafe_public_addresses_are_refused(configured: str) -> None:
    with pytest.raises(DashboardsUnavailable, match="SUPERSET_PUBLIC_URL must be an http"):
        public_url({"SUPERSET_PUBLIC_URL": configured, "SUPERSET_URL": ""})
