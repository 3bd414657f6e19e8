"""The same figure reads the same on every surface: what each demo board and
commissioner sees through the API (and so on the performance pages and in
the board pack, tests/kpis/test_board_performance.py) is what the board
performance dashboard shows them through their own guest token, and nothing
on it comes from a return that is not accepted. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.access.viewers import organisation_key, partnership_key
from monitor.auth.models import User
from monitor.db import db
from monitor.disclosure.suppression import CONFIDENTIAL
from monitor.formatting import format_figure
from monitor.kpis.models import Return
from monitor.kpis.vocabulary import ReturnState
from tests.api.conftest import token_for
from tests.conftest import DEMO_USERS
from tests.superset.conftest import ProvisionedSuperset

BOARDS = ("bd_board", "halton_board")
COMMISSIONERS = ("lbbd", "halton")


@pytest.fixture
def in_app(provisioned_superset: ProvisionedSuperset) -> Iterator[FlaskClient]:
    """The app whose database fed Superset's warehouse, for its API."""
    app = provisioned_superset.app
    with app.app_context():
        db.bind(app.config["DATABASE_URL"])
        yield app.test_client()
        db.dispose()


def _viewer(who: str) -> str:
    user = db.session.execute(select(User).where(User.email == DEMO_USERS[who])).scalar_one()
    if user.partnership_id is not None:
        return partnership_key(user.partnership_id)
    assert user.organisation_id is not None
    return organisation_key(user.organisation_id)


def _api_cells(client: FlaskClient, who: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(contract title, KPI name, quarter label) -> the API's cell, for every visible contract."""
    headers = {"Authorization": f"Bearer {token_for(DEMO_USERS[who])}"}
    contracts = client.get("/api/v1/contracts?per_page=100", headers=headers).get_json()["contracts"]
    labels = _quarter_labels()
    cells = {}
    for contract in contracts:
        body = client.get(f"/api/v1/contracts/{contract['id']}/performance", headers=headers).get_json()
        for kpi in body["kpis"]:
            for cell in kpi["quarters"]:
                cells[(contract["title"], kpi["name"], labels[cell["quarter"]])] = {
                    **cell,
                    "unit": kpi["unit"],
                }
    return cells


def _quarter_labels() -> dict[str, str]:
    from monitor.kpis.periods import Quarter

    labels = {}
    for year in range(2010, 2020):
        for number in range(1, 5):
            key = f"{year}-{(year + 1) % 100:02d}-Q{number}"
            quarter = Quarter.parse(key)
            assert quarter is not None
            labels[key] = f"Q{quarter.number} {quarter.financial_year}"
    return labels


def _results(superset: ProvisionedSuperset, token: str) -> list[dict[str, Any]]:
    chart = superset.dashboards["board-performance"].chart("board-performance/results")
    return superset.chart_data(chart, guest_token=token)


def _number(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.mark.parametrize("who", BOARDS + COMMISSIONERS)
def test_the_dashboard_shows_each_user_what_the_api_shows_them(
    provisioned_superset: ProvisionedSuperset, in_app: FlaskClient, who: str
) -> None:
    superset = provisioned_superset
    token = superset.guest_token(_viewer(who), ["board-performance"])
    api = _api_cells(in_app, who)
    rows = _results(superset, token)
    assert rows, who
    board = who in BOARDS
    hidden = 0
    for row in rows:
        key = (row["contract_title"], row["kpi_name"], row["period_label"])
        cell = api[key]
        # Only accepted returns reach the dashboards; the API marks the rest.
        assert not cell["provisional"] and not cell["awaiting_acceptance"], key
        if row["marker"]:
            assert board, f"a commissioner's own figures are exact: {key}"
            hidden += row["marker"] == CONFIDENTIAL
            assert cell["actual"] == row["marker"] == row["actual_display"], key
            assert cell["rag"] is None, key
        else:
            assert cell["actual"] is not None, key
            # The same value, written the same way (monitor.formatting).
            assert format_figure(Decimal(cell["actual"]), cell["unit"]) == row["actual_display"], key
            assert cell["rag"] == row["rag"], key
    if who == "bd_board":
        assert hidden > 0
    # Every shown figure the API gives for a rated quarter is on the dashboard too.
    shown = {(r["contract_title"], r["kpi_name"], r["period_label"]) for r in rows}
    reported = {k for k, c in api.items() if c["actual"] is not None and not c["provisional"]}
    assert reported <= shown, sorted(reported - shown)[:5]


@pytest.mark.parametrize("who", BOARDS)
def test_the_dashboards_totals_count_what_the_api_shows(
    provisioned_superset: ProvisionedSuperset, in_app: FlaskClient, who: str
) -> None:
    superset = provisioned_superset
    dashboard = superset.dashboards["board-performance"]
    token = superset.guest_token(_viewer(who), ["board-performance"])
    api = _api_cells(in_app, who)
    rags = Counter(c["rag"] for c in api.values() if c["actual"] is not None and c["rag"])
    hidden = sum(1 for c in api.values() if c["actual"] == CONFIDENTIAL)
    for key, expected in (
        ("green", rags["green"]),
        ("amber", rags["amber"]),
        ("red", rags["red"]),
        ("suppressed", hidden),
    ):
        (row,) = superset.chart_data(dashboard.chart(f"board-performance/{key}"), guest_token=token)
        assert row[key] == expected, (who, key)
    # Referrals against target: each quarter's total of the figures shown.
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for (_title, kpi, quarter), cell in api.items():
        if kpi == "Referrals received" and cell["actual"] not in (None, CONFIDENTIAL):
            totals[quarter] += Decimal(cell["actual"])
    chart = dashboard.chart("board-performance/referrals-against-target")
    context = superset.stored_query_context(chart)
    for query in context["queries"]:
        query["post_processing"] = []
    labels = {v: k for k, v in _quarter_labels().items()}
    line = {row["period_key"]: row["total_actual"] for row in superset.chart_data(chart, guest_token=token)}
    for label, total in totals.items():
        assert _number(line[labels[label]]) == _number(total), (who, label)


def test_the_warehouse_behind_every_dashboard_holds_accepted_returns_only(
    provisioned_superset: ProvisionedSuperset, in_app: FlaskClient
) -> None:
    superset = provisioned_superset
    waiting = db.session.execute(
        select(Return.contract_id, Return.period).where(Return.state != ReturnState.ACCEPTED.value)
    ).all()
    assert waiting, "the demo has returns awaiting review"
    pending = {(str(contract), period) for contract, period in waiting}
    rows = superset.warehouse.rows("SELECT DISTINCT contract_id, period_key FROM fact_kpi_result")
    assert rows
    loaded = {(str(r["contract_id"]), r["period_key"]) for r in rows}
    assert not loaded & pending
