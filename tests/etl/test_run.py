"""The ETL run end to end on the demo, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import select, text

from etl import load
from etl.app import drain_outbox, run_for_app, warehouse_url
from etl.run import EtlFailed
from etl.schema import MARTS, metadata
from monitor.audit import Actor, acting_as
from monitor.auth.models import Role, User
from monitor.contracts.models import Contract, FundingLine
from monitor.db import db
from monitor.demo import load_demo
from monitor.disclosure import suppression
from monitor.kpis.library.definitions import load_library
from monitor.kpis.models import Return
from monitor.kpis.returns.services import accept_return
from monitor.kpis.vocabulary import ReturnState
from tests.conftest import WAREHOUSE_AS_AT, Warehouse, _fresh_app, build_warehouse

LBBD = "London Borough of Barking and Dagenham"
BD_BOARD = "Barking and Dagenham Health and Wellbeing Board"


def snapshot(warehouse: Warehouse) -> dict[str, list[tuple[Any, ...]]]:
    """Every warehouse table but the run log, in a stable order."""
    tables = [t.name for t in metadata.sorted_tables if t.name != "etl_run"]
    return {
        name: sorted((tuple(r.values()) for r in warehouse.rows(f"SELECT * FROM {name}")), key=repr)  # noqa: S608
        for name in tables
    }


def runs(warehouse: Warehouse) -> list[Any]:
    return warehouse.rows("SELECT * FROM etl_run ORDER BY run_id")


def test_barking_and_dagenham_2013_14_funding_is_823500_from_six_funders(shared_warehouse: Warehouse) -> None:
    for viewer in (LBBD, BD_BOARD):
        funding = shared_warehouse.rows(
            "SELECT sum(amount) AS total, count(DISTINCT funder_name) AS funders FROM mart_funding "
            "WHERE viewer_name = :name AND financial_year = '2013/14'",
            name=viewer,
        )[0]
        assert Decimal(str(funding["total"])) == Decimal("823500"), viewer
        assert funding["funders"] == 6


def test_a_run_logs_row_counts_and_passing_checks(shared_warehouse: Warehouse) -> None:
    (run,) = runs(shared_warehouse)
    assert (run["mode"], run["status"]) == ("full", "succeeded")
    counts = json.loads(run["row_counts"])
    assert counts["fact_kpi_result"] == len(shared_warehouse.rows("SELECT * FROM fact_kpi_result")) > 200
    checks = {c["name"]: c for c in json.loads(run["checks"])}
    assert set(checks) == {
        "keys resolve",
        "funding reconciles",
        "results reconcile",
        "disclosure control",
        "comparison shows opted-in areas only and no small count",
    }
    assert all(c["passed"] for c in checks.values())


def test_running_twice_gives_an_identical_warehouse(warehouse: Warehouse) -> None:
    before = snapshot(warehouse)
    with warehouse.app.app_context():
        again = run_for_app(full=True)
        incremental = run_for_app()
    assert snapshot(warehouse) == before
    assert (again.mode, incremental.mode, incremental.message) == ("full", "incremental", "nothing changed")


def _change_funding(contract_reference: str, amount: Decimal) -> None:
    with acting_as(Actor(None, "test")), db.transaction() as session:
        contract = session.scalars(select(Contract).where(Contract.reference == contract_reference)).one()
        line = session.scalars(select(FundingLine).where(FundingLine.contract_id == contract.id)).first()
        assert line is not None
        line.amount = amount


def test_an_incremental_run_rebuilds_only_what_a_change_touches(warehouse: Warehouse) -> None:
    full_counts = json.loads(runs(warehouse)[0]["row_counts"])
    halton_before = warehouse.rows(
        "SELECT * FROM mart_funding WHERE viewer_name LIKE 'Halton%' ORDER BY contract_id"
    )
    with warehouse.app.app_context():
        _change_funding("LBBD-DV-002", Decimal("1000.00"))
        result = run_for_app()
    assert (result.mode, result.contracts_changed) == ("incremental", 1)
    # Only Barking & Dagenham's viewers' rows were written again, not Halton's or Westminster's.
    assert 0 < result.row_counts["mart_board_performance"] < full_counts["mart_board_performance"]
    assert 0 < result.row_counts["fact_kpi_result"] < full_counts["fact_kpi_result"]
    assert (
        warehouse.rows("SELECT * FROM mart_funding WHERE viewer_name LIKE 'Halton%' ORDER BY contract_id")
        == halton_before
    )
    # The incremental result equals what a full rebuild gives.
    after_incremental = snapshot(warehouse)
    with warehouse.app.app_context():
        run_for_app(full=True)
    assert snapshot(warehouse) == after_incremental


def test_an_incremental_run_checks_what_it_rebuilt(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks after an incremental run look only at the contracts and
    viewers it rebuilt, and still stop a bad rebuild of those."""
    before = snapshot(warehouse)
    # Disclosure control that hides nothing puts small counts on board rows.
    monkeypatch.setattr(suppression, "is_small", lambda values, _threshold: np.zeros(len(values), dtype=bool))
    with warehouse.app.app_context():
        _change_funding("LBBD-DV-002", Decimal("1000.00"))
        with pytest.raises(EtlFailed, match=r"disclosure control: \d+ board figures from 1 to 4 are visible"):
            run_for_app()
    assert snapshot(warehouse) == before


def test_a_failure_part_way_leaves_the_previous_warehouse(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(warehouse)
    real_insert = load.insert

    def failing_insert(connection: Any, table: Any, frame: Any) -> int:
        if table.name == MARTS[2].name:
            raise OSError("disk full")
        return real_insert(connection, table, frame)

    monkeypatch.setattr(load, "insert", failing_insert)
    with warehouse.app.app_context(), pytest.raises(EtlFailed, match="disk full"):
        run_for_app(full=True)
    assert snapshot(warehouse) == before
    last = runs(warehouse)[-1]
    assert (last["status"], last["message"]) == ("failed", "OSError: disk full")
    # The next run starts from the last good one.
    monkeypatch.setattr(load, "insert", real_insert)
    with warehouse.app.app_context():
        assert run_for_app().message == "nothing changed"


def test_boards_see_suppressed_figures_and_commissioners_their_own(shared_warehouse: Warehouse) -> None:
    board = shared_warehouse.rows(
        "SELECT actual, actual_display, marker FROM mart_board_performance WHERE viewer_kind = 'board' AND unit = 'count'"
    )
    assert any(r["marker"] == "[c]" for r in board)
    assert all(r["actual"] is None for r in board if r["marker"] == "[c]")
    assert not [r for r in board if r["actual"] is not None and 1 <= r["actual"] <= 4]
    own = shared_warehouse.rows(
        "SELECT actual_display FROM mart_board_performance WHERE viewer_kind = 'commissioner' AND unit = 'count'"
    )
    assert not [r for r in own if r["actual_display"] == "[c]"]
    assert [r for r in own if r["actual_display"] in {"1", "2", "3", "4"}]


def test_a_past_quarter_keeps_the_terms_then_in_force_after_an_extension(shared_warehouse: Warehouse) -> None:
    versions = shared_warehouse.rows(
        "SELECT version, valid_from, end_date, is_current FROM dim_contract "
        "WHERE contract_id = (SELECT contract_id FROM dim_contract WHERE version = 2 LIMIT 1) ORDER BY version"
    )
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["end_date"] < versions[1]["end_date"]
    assert [v["is_current"] for v in versions] == [False, True]


def test_options_of_a_contract_that_has_ended_are_not_counted_as_left(shared_warehouse: Warehouse) -> None:
    """LBBD-DV-004 and DV-007 ended on 31 March 2014, each with an option
    never taken up; as at 6 May 2014 none is left to take."""
    rows = shared_warehouse.rows(
        "SELECT DISTINCT contract_reference, options_remaining FROM mart_renewals "
        "WHERE contract_reference IN ('LBBD-DV-004', 'LBBD-DV-007')"
    )
    assert {r["contract_reference"]: r["options_remaining"] for r in rows} == {
        "LBBD-DV-004": 0,
        "LBBD-DV-007": 0,
    }


def test_provision_map_flags_cohorts_with_no_live_service(shared_warehouse: Warehouse) -> None:
    rows = shared_warehouse.rows(
        "SELECT cohort, gap, live_contracts FROM mart_provision WHERE viewer_name = :n", n=BD_BOARD
    )
    gaps = {r["cohort"] for r in rows if r["gap"]}
    served = {r["cohort"] for r in rows if not r["gap"]}
    assert "perpetrators" in gaps and "adults" in served
    assert not gaps & served


@pytest.fixture
def synced_app(database_url: str) -> Iterator[Flask]:
    """An app as at 6 May 2014 whose outbox the test drains itself, as the worker would."""
    yield from _fresh_app(database_url, TODAY=WAREHOUSE_AS_AT)


def test_accepting_a_return_brings_the_warehouse_up_to_date(synced_app: Flask) -> None:
    warehouse = build_warehouse(synced_app)
    waiting = db.session.scalars(select(Return).where(Return.state == ReturnState.SUBMITTED.value)).first()
    assert waiting is not None
    key = {"contract_id": waiting.contract_id, "period": waiting.period}
    sql = (
        "SELECT count(*) AS n FROM fact_kpi_result WHERE contract_id = :contract_id AND period_key = :period"
    )
    assert warehouse.rows(sql, **key)[0]["n"] == 0
    reviewer = db.session.scalars(
        select(User).where(
            User.role == Role.COMMISSIONER, User.organisation_id.in_(waiting.contract.commissioner_ids)
        )
    ).first()
    assert reviewer is not None
    with acting_as(Actor(reviewer.id, reviewer.email)), db.transaction() as session:
        ret = session.get(Return, waiting.id)
        assert ret is not None
        accept_return(session, reviewer, ret)
    # The acceptance only wrote an outbox row; draining it runs the ETL.
    assert warehouse.rows(sql, **key)[0]["n"] == 0
    drained = drain_outbox()
    assert drained.events == 1 and drained.result is not None
    assert warehouse.rows(sql, **key)[0]["n"] > 0
    assert runs(warehouse)[-1]["mode"] == "incremental"


def test_the_command_reports_each_run_and_its_checks(
    warehouse_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo(db)
    db.session.remove()
    runner = warehouse_app.test_cli_runner()
    result = runner.invoke(args=["etl", "run", "--full"])
    assert result.exit_code == 0, result.output
    assert "etl: full run 1 succeeded" in result.output
    assert "ok   funding reconciles: 2 financial years match the register" in result.output
    assert runner.invoke(args=["etl", "run"]).output.count("nothing changed") == 1

    def broken(*_args: object) -> None:
        raise OSError("warehouse disk is full")

    monkeypatch.setattr(load, "clear", broken)
    failed = runner.invoke(args=["etl", "run", "--full"])
    assert failed.exit_code == 1
    assert "the ETL run failed and changed nothing: OSError: warehouse disk is full" in failed.output
    assert "Traceback" not in failed.output


def test_a_warehouse_from_an_older_release_is_rebuilt(warehouse: Warehouse) -> None:
    with warehouse.engine.begin() as connection:
        connection.execute(
            text(
                "DROP TABLE "
                + ("warehouse." if warehouse.url.startswith("postgresql") else "")
                + "mart_renewals"
            )
        )
        connection.execute(
            text(
                "CREATE TABLE "
                + ("warehouse." if warehouse.url.startswith("postgresql") else "")
                + "mart_renewals (viewer VARCHAR(40), old_column INTEGER)"
            )
        )
    with warehouse.app.app_context():
        result = run_for_app()
    assert result.mode == "full"
    assert warehouse.rows("SELECT count(*) AS n FROM mart_renewals")[0]["n"] > 0


def test_a_register_with_no_contracts_yet_gives_an_empty_warehouse(warehouse_app: Flask) -> None:
    # A new installation: the KPI library is loaded, nothing else.
    with acting_as(Actor(None, "test")), db.transaction() as session:
        assert load_library(session) > 0
    db.session.remove()
    with warehouse_app.app_context():
        result = run_for_app(full=True)
    warehouse = Warehouse(warehouse_app, warehouse_url(warehouse_app))
    assert result.checks and all(check.passed for check in result.checks)
    assert warehouse.rows("SELECT count(*) AS n FROM dim_kpi")[0]["n"] > 0
    for table in ("fact_kpi_result", "fact_funding", *(mart.name for mart in MARTS)):
        assert warehouse.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"] == 0, table  # noqa: S608
    warehouse.engine.dispose()


def test_a_full_run_leaves_the_planner_fresh_statistics(shared_warehouse: Warehouse) -> None:
    if not shared_warehouse.url.startswith("postgresql"):
        pytest.skip("planner statistics are PostgreSQL's")
    analysed = shared_warehouse.rows(
        "SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'warehouse' AND last_analyze IS NOT NULL"
    )
    assert {"fact_kpi_result", "mart_board_performance", "dim_contract"} <= {r["relname"] for r in analysed}
    extended = shared_warehouse.rows(
        "SELECT stxname FROM pg_statistic_ext WHERE stxnamespace = 'warehouse'::regnamespace"
    )
    assert {f"{mart.name}_viewer" for mart in MARTS} <= {r["stxname"] for r in extended}


def _comparison(warehouse: Warehouse) -> list[tuple[Any, ...]]:
    return sorted((tuple(r.values()) for r in warehouse.rows("SELECT * FROM mart_comparison")), key=repr)


def test_an_incremental_run_leaves_the_comparison_to_the_next_full_run(synced_app: Flask) -> None:
    """Accepting a return changes an opted-in area's compared figures: the
    incremental run that loads it leaves mart_comparison as the last full run
    worked it out (it costs the square of the areas, etl/run.py), and the
    next full run compares it."""
    warehouse = build_warehouse(synced_app)
    before = _comparison(warehouse)
    assert before, "the demo compares its opted-in areas"
    # Every row says which day it was worked out for, as the dashboard and the pack show it.
    assert {str(r["as_at"]) for r in warehouse.rows("SELECT DISTINCT as_at FROM mart_comparison")} == {
        WAREHOUSE_AS_AT
    }
    assert {r["as_at_label"] for r in warehouse.rows("SELECT DISTINCT as_at_label FROM mart_comparison")} == {
        "6 May 2014"
    }
    waiting = db.session.scalars(select(Return).where(Return.state == ReturnState.SUBMITTED.value)).all()
    assert waiting
    for ret in waiting:
        reviewer = db.session.scalars(
            select(User).where(
                User.role == Role.COMMISSIONER, User.organisation_id.in_(ret.contract.commissioner_ids)
            )
        ).first()
        assert reviewer is not None
        with acting_as(Actor(reviewer.id, reviewer.email)), db.transaction() as session:
            found = session.get(Return, ret.id)
            assert found is not None
            accept_return(session, reviewer, found)
    drained = drain_outbox()
    assert drained.result is not None and drained.result.mode == "incremental"
    assert "mart_comparison" not in drained.result.row_counts
    assert _comparison(warehouse) == before

    with synced_app.app_context():
        full = run_for_app(full=True)
    assert full.row_counts["mart_comparison"] > 0
    assert "comparison shows opted-in areas only and no small count" in {c.name for c in full.checks}
    after = _comparison(warehouse)
    assert after != before, "the full run compares the figures the incremental run loaded"
