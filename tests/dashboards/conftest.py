"""A stand-in for Superset's guest tokens, so the pages can be tested without it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from flask import Flask

from monitor.access.viewers import Viewer
from monitor.dashboards.catalogue import Dashboard
from monitor.dashboards.tokens import ISSUER_KEY, DashboardsUnavailable, Grant


@dataclass
class FakeIssuer:
    """Records what it was asked for; answers like Superset would, or fails like it."""

    up: bool = True
    issued: list[tuple[str, str, int]] = field(default_factory=list)

    def available(self) -> bool:
        return self.up

    def issue(self, dashboard: Dashboard, viewer: Viewer, user_id: int) -> Grant:
        if not self.up:
            raise DashboardsUnavailable("Superset is down (fake)", "fake detail")
        self.issued.append((dashboard.slug, viewer.key, user_id))
        return Grant(token=f"token-for-{viewer.key}", embedded_id=f"embed-{dashboard.slug}")


@pytest.fixture
def issuer(demo: Flask) -> FakeIssuer:
    fake = FakeIssuer()
    demo.extensions[ISSUER_KEY] = fake
    demo.config["SUPERSET_PUBLIC_URL"] = "http://superset.test:8088/"
    return fake
