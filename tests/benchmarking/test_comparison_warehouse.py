"""The comparison mart on the demo's warehouse, on SQLite and PostgreSQL: built
by the ETL from the accepted figures, with the demo's decisions, regions and
similar-areas group, and rebuilt when who takes part changes."""

from __future__ import annotations

import json
from datetime import date

from flask import Flask
from sqlalchemy import select

from etl.app import run_for_app
from monitor.audit import Actor, acting_as
from monitor.auth.models import Partnership
from monitor.benchmarking.demo import load_demo_benchmarking
from monitor.benchmarking.models import BenchmarkingDecision
from monitor.db import db
from monitor.disclosure.suppression import CONFIDENTIAL
from tests.conftest import Warehouse

BD_BOARD = "Barking and Dagenham Health and Wellbeing Board"
HALTON_FORUM = "Halton Domestic Abuse Forum"
TRI_BOROUGH = "Tri-borough VAWG Partnership"


def _ids(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            name: identifier
            for name, identifier in db.session.execute(select(Partnership.name, Partnership.id))
        }


def _with_demo_benchmarking(warehouse: Warehouse) -> dict[str, int]:
    with warehouse.app.app_context(), acting_as(Actor(None, "demo data")):
        # The demo loads them already; loading again adds nothing.
        load_demo_benchmarking(db.session())
        db.session.commit()
        result = run_for_app(full=True)
    assert all(check.passed for check in result.checks), result.checks
    return _ids(warehouse.app)


def test_the_demo_compares_its_opted_in_areas_and_leaves_the_other_out(warehouse: Warehouse) -> None:
    ids = _with_demo_benchmarking(warehouse)
    rows = warehouse.rows("SELECT * FROM mart_comparison")
    assert rows
    viewers = {row["viewer"] for row in rows}
    assert f"partnership:{ids[TRI_BOROUGH]}" not in viewers
    assert {f"partnership:{ids[BD_BOARD]}", f"partnership:{ids[HALTON_FORUM]}"} <= viewers
    assert ids[TRI_BOROUGH] not in {row["area_id"] for row in rows}
    assert ids[TRI_BOROUGH] not in {row["viewer_area_id"] for row in rows}
    # Every figure shown is an accepted figure summed as the mart says: Barking
    # and Dagenham's referrals in 2013/14 are its services' accepted quarters.
    accepted = warehouse.rows(
        "SELECT SUM(f.actual) AS total FROM fact_kpi_result f JOIN dim_kpi k ON k.kpi_id = f.kpi_id "
        "JOIN bridge_contract_viewer b ON b.contract_id = f.contract_id "
        "WHERE k.code = 'REF-RECEIVED' AND f.breakdown = '' AND b.viewer = :viewer "
        "AND f.period_key LIKE '2013-14-%'",
        viewer=f"partnership:{ids[BD_BOARD]}",
    )[0]["total"]
    own = [
        row
        for row in rows
        if row["viewer"] == f"partnership:{ids[BD_BOARD]}"
        and row["is_viewer_area"]
        and row["kpi_code"] == "REF-RECEIVED"
        and row["financial_year"] == "2013/14"
        and row["group_name"] == "All areas"
    ]
    assert len(own) == 1
    assert own[0]["value"] == accepted or own[0]["value_display"] == CONFIDENTIAL
    # Groups: all areas, the region (London has only Barking and Dagenham
    # opted in), and the similar-areas group.
    groups = {row["group_name"] for row in rows if row["viewer"] == f"partnership:{ids[BD_BOARD]}"}
    assert groups == {"All areas", "London areas", "Health and Wellbeing Boards in the demo"}
    london = [row for row in rows if row["group_name"] == "London areas" and row["row_kind"] == "area"]
    assert {row["label"] for row in london} <= {"Not compared", CONFIDENTIAL}
    # No count from 1 to the threshold anywhere, for any viewer.
    assert not [
        r for r in rows if r["measure"] == "count" and r["value"] is not None and 1 <= r["value"] <= 4
    ]
    run = warehouse.rows("SELECT row_counts FROM etl_run ORDER BY run_id DESC LIMIT 1")[0]
    assert json.loads(run["row_counts"])["mart_comparison"] == len(rows)


def test_an_area_that_opts_out_leaves_every_row_on_the_next_run(warehouse: Warehouse) -> None:
    ids = _with_demo_benchmarking(warehouse)
    forum = ids[HALTON_FORUM]
    before = warehouse.rows("SELECT COUNT(*) AS n FROM mart_comparison WHERE area_id = :a", a=forum)[0]["n"]
    assert before > 0
    with warehouse.app.app_context(), acting_as(Actor(None, "test")):
        db.session.add(
            BenchmarkingDecision(
                partnership_id=forum,
                opted_in=False,
                decided_on=date(2014, 4, 30),
                approver_name="Cllr Sam Hughes",
            )
        )
        db.session.commit()
        result = run_for_app()
    assert result.mode == "full"
    assert all(check.passed for check in result.checks), result.checks
    left = warehouse.rows(
        "SELECT COUNT(*) AS n FROM mart_comparison WHERE area_id = :a OR viewer_area_id = :a", a=forum
    )[0]["n"]
    assert left == 0
