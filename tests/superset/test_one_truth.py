"""The same figure reads the same on every surface: what each demo board and
commissioner sees through the API (and so on the performance pages and in
the board pack, tests/kpis/test_board_performance.py) is what the board
performance dashboard shows them through their own guest token, and nothing
on it comes from a return that is not accepted. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import String, select

from etl.schema import MARTS
from etl.transform.labels import NOT_SHOWN, RAG_ORDER
from monitor.access.viewers import organisation_key, partnership_key
from monitor.auth.models import User
from monitor.contracts.models import Cohort
from monitor.db import db
from monitor.disclosure.suppression import CONFIDENTIAL, NOT_APPLICABLE, NOT_AVAILABLE
from monitor.formatting import day_text, format_figure, money, quarter_text, sentence_case
from monitor.kpis.models import Return
from monitor.kpis.performance.rag import Rag
from monitor.kpis.vocabulary import ReturnState
from monitor.superset.charts import table_height
from monitor.superset.spec import column_name
from tests.api.conftest import token_for
from tests.conftest import DEMO_USERS
from tests.superset.conftest import ProvisionedSuperset

BOARDS = ("bd_board", "halton_board")
MARKERS = (CONFIDENTIAL, NOT_AVAILABLE, NOT_APPLICABLE)
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
        marker = row["actual_display"] if row["actual_display"] in MARKERS else ""
        if marker:
            assert board, f"a commissioner's own figures are exact: {key}"
            hidden += marker == CONFIDENTIAL
            assert cell["actual"] == marker, key
            assert cell["rag"] is None, key
            assert row["rag_label"] == marker, key
        else:
            assert cell["actual"] is not None, key
            # The same value, written the same way (monitor.formatting).
            assert format_figure(Decimal(cell["actual"]), cell["unit"]) == row["actual_display"], key
            # The same rating, in the words the performance pages tag it with.
            rated = cell["rag"] in {r.value for r in RAG_ORDER}
            assert row["rag_label"] == (Rag(cell["rag"]).text if rated else NOT_APPLICABLE), key
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
    line = {row["period_label"]: row["total_actual"] for row in superset.chart_data(chart, guest_token=token)}
    for label, total in totals.items():
        assert _number(line[label]) == _number(total), (who, label)


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


# --- the dashboards speak the app's language -----------------------------------------


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _marker_or(value: Any, written: str, marker: str) -> str:
    return marker if value is None else written


def test_the_marts_labels_are_monitor_formatting_s_words(provisioned_superset: ProvisionedSuperset) -> None:
    """Every label column is what monitor.formatting writes for its row's key."""
    rows = provisioned_superset.warehouse.rows
    checked = Counter[str]()
    for row in rows(
        "SELECT period_key, period_label, service_type, service_type_label, unit, target, target_display, "
        "rag, rag_label, actual_display FROM mart_board_performance"
    ):
        assert row["period_label"] == quarter_text(row["period_key"])
        assert row["service_type_label"] == (sentence_case(row["service_type"]) or NOT_APPLICABLE)
        target = row["target"]
        assert row["target_display"] == (
            NOT_APPLICABLE if target is None else format_figure(Decimal(str(target)), row["unit"])
        )
        if row["rag"] in {r.value for r in RAG_ORDER}:
            assert row["rag_label"] == Rag(row["rag"]).text
        else:
            assert row["rag_label"] in (CONFIDENTIAL, NOT_AVAILABLE, NOT_APPLICABLE), row
        checked["performance"] += 1
    dates = ("start_date", "end_date", "max_extent_date", "notice_date", "decision_by_date", "as_at")
    label_of = {"max_extent_date": "max_extent_label", "decision_by_date": "decision_by_label"}
    for row in rows("SELECT * FROM mart_renewals"):
        assert row["status_label"] == sentence_case(row["status"])
        assert row["status_label"][0].isupper()
        assert row["service_type_label"] == sentence_case(row["service_type"])
        for column in dates:
            assert row[label_of.get(column, f"{column}_label")] == day_text(_day(row[column])), column
        assert row["annual_value_display"] == money(Decimal(str(row["annual_value"])))
        checked["renewals"] += 1
    for row in rows("SELECT * FROM mart_outcomes"):
        assert row["period_label"] == quarter_text(row["period_key"])
        assert row["small_sample_label"] == ("Small sample" if row["small_sample"] else "")
        assert row["mean_change_display"] == _marker_or(
            row["mean_change"],
            format_figure(row["mean_change"], "score") if row["mean_change"] is not None else "",
            CONFIDENTIAL if row["paired_cases_display"] == CONFIDENTIAL else NOT_AVAILABLE,
        )
        checked["outcomes"] += 1
    for row in rows("SELECT * FROM mart_value_for_money"):
        assert row["spend_display"] == money(Decimal(str(row["spend"])))
        for ratio in ("cost_per_referral", "cost_per_completion", "cost_per_positive_outcome"):
            if row[ratio] is not None:
                assert row[f"{ratio}_display"] == format_figure(row[ratio], "currency")
            else:
                assert row[f"{ratio}_display"] in (CONFIDENTIAL, NOT_AVAILABLE, NOT_APPLICABLE)
        checked["value for money"] += 1
    for row in rows("SELECT * FROM mart_provision"):
        assert row["cohort_label"] == sentence_case(row["cohort"])
        assert row["service_type_label"] == (sentence_case(row["service_type"]) or NOT_APPLICABLE)
        assert row["as_at_label"] == day_text(_day(row["as_at"]))
        checked["provision"] += 1
    assert min(checked.values()) > 0 and len(checked) == 5, checked


def test_no_mart_holds_n_a_and_no_table_shows_an_empty_cell(
    provisioned_superset: ProvisionedSuperset,
) -> None:
    """Superset writes "N/A" for an empty cell: the marts never hold it, and
    every column a table chart shows is filled (a figure, a label or a marker)."""
    warehouse = provisioned_superset.warehouse
    for table in MARTS:
        for column in table.columns:
            if isinstance(column.type, String):
                found = warehouse.rows(
                    f"SELECT COUNT(*) AS n FROM {table.name} WHERE UPPER(\"{column.name}\") = 'N/A'"  # noqa: S608
                )
                assert found[0]["n"] == 0, (table.name, column.name)
    tables = [c for d in provisioned_superset.specs for c in d.charts if c.viz_type == "table"]
    assert len(tables) >= 5
    for chart in tables:
        for column in chart.query.columns:
            name = column_name(column)
            empty = warehouse.rows(
                f'SELECT COUNT(*) AS n FROM {chart.dataset.table} WHERE "{name}" IS NULL'  # noqa: S608
            )
            assert empty[0]["n"] == 0, (chart.key, name)


@pytest.mark.parametrize("who", ["bd_board", "lbbd"])
def test_referrals_by_source_stack_to_the_total(
    provisioned_superset: ProvisionedSuperset, in_app: FlaskClient, who: str
) -> None:
    """Each quarter's parts, with "Not shown" for what is hidden, reach the
    all-services total the board sees, through the guest's own chart."""
    superset = provisioned_superset
    viewer = _viewer(who)
    chart = superset.dashboards["board-performance"].chart("board-performance/referrals-by-source")
    context = superset.grouped_query_context(chart)
    token = superset.guest_token(viewer, ["board-performance"])
    stacked: dict[str, Decimal] = defaultdict(Decimal)
    parts: dict[str, list[str]] = defaultdict(list)
    for row in superset.chart_data(chart, guest_token=token, query_context=context):
        stacked[row["period_label"]] += Decimal(str(row["total_actual"] or 0))
        parts[row["period_label"]].append(row["part"])
    totals = superset.warehouse.rows(
        "SELECT period_label, actual FROM mart_board_performance WHERE viewer = :viewer "
        "AND scope = 'all services' AND kpi_code = 'REF-RECEIVED' AND breakdown = ''",
        viewer=viewer,
    )
    shown = [t for t in totals if t["actual"] is not None]
    assert shown, who
    for total in shown:
        assert _number(stacked[total["period_label"]]) == _number(total["actual"]), (who, total)
    if who == "bd_board":
        assert any(NOT_SHOWN in p for p in parts.values()), "the board's hidden sources have a segment"
        hidden = superset.warehouse.rows(
            "SELECT actual_display FROM mart_board_parts WHERE viewer = :viewer AND part = :part",
            viewer=viewer,
            part=NOT_SHOWN,
        )
        for row in hidden:  # a small "not shown" is itself hidden, never a count of 1 to 4
            assert row["actual_display"] == CONFIDENTIAL or int(row["actual_display"].replace(",", "")) > 4


def test_rag_order_and_colours_are_fixed_in_the_provisioned_charts(
    provisioned_superset: ProvisionedSuperset,
) -> None:
    superset = provisioned_superset
    board = superset.dashboards["board-performance"]
    chart = board.chart("board-performance/rag-by-quarter")
    params = json.loads(superset.client.chart(chart.id)["params"])
    assert params["metrics"] == ["red", "amber", "green"]
    assert params["x_axis"] == "period_label"
    colours = {"red": "#d4351c", "amber": "#f47738", "green": "#00703c"}
    stored = json.loads(superset.client.dashboard(board.slug)["json_metadata"])
    for rag, colour in colours.items():
        assert params["label_colors"][rag] == colour
        assert params["label_colors"][Rag(rag).text] == colour
        assert stored["label_colors"][Rag(rag).text] == colour
    # Superset lists series by name, so its legend is off and the key beside
    # the chart says Red, Amber, Green.
    assert params["show_legend"] is False
    position = json.loads(superset.client.dashboard(board.slug)["position_json"])
    key = next(v["meta"]["code"] for k, v in position.items() if k.startswith("MARKDOWN-") and "rag" in k)
    at = [key.index(Rag(rag).text) for rag in ("red", "amber", "green")]
    assert at == sorted(at), key
    metrics = {
        m["metric_name"]: m["verbose_name"] for m in _dataset(superset, "mart_board_performance")["metrics"]
    }
    assert [metrics[r] for r in ("red", "amber", "green")] == [Rag(r).text for r in ("red", "amber", "green")]


def test_tables_are_as_tall_as_their_rows(provisioned_superset: ProvisionedSuperset) -> None:
    superset = provisioned_superset
    tables = 0
    for slug, dashboard in superset.dashboards.items():
        position = json.loads(superset.client.dashboard(slug)["position_json"])
        heights = {
            v["meta"].get("uuid"): v["meta"]["height"]
            for v in position.values()
            if isinstance(v, dict) and v.get("type") == "CHART"
        }
        for chart in dashboard.charts:
            if chart.viz_type != "table":
                continue
            params = json.loads(superset.client.chart(chart.id)["params"])
            assert params["page_length"] == params["server_page_length"] > 0
            assert heights[chart.spec.uuid] == chart.spec.height, (slug, chart.key)
            assert chart.spec.height in {table_height(params["page_length"], lines) for lines in (1, 2, 3)}
            tables += 1
    # One on each dashboard, two on the provision map (gaps, children's support)
    # and two on How we compare.
    assert tables == 8
    gaps = superset.dashboards["provision-gaps"].chart("provision/gaps")
    assert json.loads(superset.client.chart(gaps.id)["params"])["page_length"] == len(Cohort)


def _dataset(superset: ProvisionedSuperset, table: str) -> dict[str, Any]:
    found = superset.client.get(f"/api/v1/dataset/?q=(filters:!((col:table_name,opr:eq,value:{table})))")
    return dict(superset.client.get(f"/api/v1/dataset/{found['result'][0]['id']}")["result"])
