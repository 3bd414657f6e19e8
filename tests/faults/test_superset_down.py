"""Superset is down (SUPERSET_URL is a port nothing listens on): a board
member's Dashboards page says so in plain words, and the scheduled delivery
of board packs, which never asks Superset for anything, still emails the
board its pack."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Flask

from monitor.dashboards.catalogue import DASHBOARDS
from monitor.dashboards.tokens import NOT_AVAILABLE
from monitor.demo import DEMO_PASSWORD
from tests.conftest import DEMO_USERS, Warehouse
from tests.worker.conftest import free_port

BD_BOARD = "Barking and Dagenham Health and Wellbeing Board"


@pytest.fixture
def superset_down(warehouse: Warehouse) -> Flask:
    app = warehouse.app
    closed = f"http://127.0.0.1:{free_port()}"
    app.config.update(SUPERSET_URL=closed, SUPERSET_PUBLIC_URL=closed, SUPERSET_PASSWORD="set-but-unused")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: errors reach the error pages
    return app


def test_the_dashboards_page_says_superset_is_down(superset_down: Flask) -> None:
    client = superset_down.test_client()
    signed_in = client.post("/sign-in", data={"email": DEMO_USERS["bd_board"], "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302

    index = client.get("/dashboards")
    assert index.status_code == 200  # the list of dashboards needs nothing from Superset
    for dashboard in DASHBOARDS:
        page = client.get(f"/dashboards/{dashboard.slug}")
        assert page.status_code == 503, dashboard.slug
        text = " ".join(BeautifulSoup(page.get_data(as_text=True), "html.parser").get_text().split())
        assert NOT_AVAILABLE in text
        assert "127.0.0.1" not in text and "Traceback" not in text  # no detail for a board member

        token = client.post(f"/dashboards/{dashboard.slug}/guest-token")
        assert token.status_code == 503 and token.get_json() == {"message": NOT_AVAILABLE}


def test_scheduled_pack_delivery_works_without_superset(superset_down: Flask, tmp_path: Path) -> None:
    # The demo's board meets on 13 May 2014: its pack is due on the warehouse's
    # as-at day, 6 May, five working days before.
    superset_down.config.update(OUTBOX_DIR=str(tmp_path / "outbox"), SMTP_HOST="")
    task = superset_down.extensions["celery"].tasks["monitor.worker.tasks.deliver_board_packs"]
    result = task.apply()
    assert result.successful(), result.traceback
    assert result.result.startswith("board packs: 1 sent (1 copy)"), result.result
    (sent,) = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in (tmp_path / "outbox").iterdir()
    ]
    assert sent["To"] == DEMO_USERS["bd_board"]
    assert sent["Subject"] == f"Board pack for the meeting on 13 May 2014: {BD_BOARD}, Q4 2013/14"
    (pack,) = list(sent.iter_attachments())
    assert pack.get_filename() == "board-pack-barking-and-dagenham-health-and-wellbeing-board-2013-14-Q4.xlsx"
    assert pack.get_content().startswith(b"PK")
