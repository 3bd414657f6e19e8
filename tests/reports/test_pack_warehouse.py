"""Board packs from a warehouse the ETL built over the demo and its 2013/14
returns: figures against the warehouse, commentary from the accepted
returns, and no small count anywhere, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from monitor.auth.models import Organisation, Partnership
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.disclosure.suppression import CONFIDENTIAL
from monitor.kpis.models import Return, ReturnVersion
from monitor.kpis.performance.rag import Rag
from monitor.kpis.vocabulary import ReturnState
from monitor.reports.audience import Audience, find_commissioner, find_partnership
from monitor.reports.service import BoardPack, make_board_pack, pack_warehouse
from tests.conftest import Warehouse
from tests.reports.xlsx import QUARTER_HEADER, assert_no_small_counts, charts, open_pack, tables

LBBD = "London Borough of Barking and Dagenham"
BD_BOARD = "Barking and Dagenham Health and Wellbeing Board"
PERIOD = "2013-14-Q4"
THRESHOLD = 4
RATING_ROWS = {
    Rag.GREEN.value: "Green",
    Rag.AMBER.value: "Amber",
    Rag.RED.value: "Red",
    Rag.NONE.value: "Not rated",
    CONFIDENTIAL: "Rating hidden [c]",
}


def _pack(audience: Audience, period: str = PERIOD) -> BoardPack:
    return make_board_pack(
        db.session(), pack_warehouse(), audience, period, threshold=THRESHOLD, produced_on=date(2014, 5, 6)
    )


@pytest.fixture(scope="module")
def packs(board_warehouse: Warehouse) -> dict[str, BoardPack]:
    session = db.session()
    return {
        "lbbd": _pack(find_commissioner(session, LBBD)),
        "board": _pack(find_partnership(session, BD_BOARD)),
        "halton": _pack(find_commissioner(session, "Halton Borough Council")),
    }


def _viewer(name: str) -> str:
    organisation = db.session.scalars(select(Organisation).where(Organisation.name == name)).first()
    if organisation is not None:
        return f"organisation:{organisation.id}"
    partnership = db.session.scalars(select(Partnership).where(Partnership.name == name)).one()
    return f"partnership:{partnership.id}"


def _rating_counts(warehouse: Warehouse, viewer: str) -> dict[str, int]:
    rows = warehouse.rows(
        "SELECT rag, count(*) AS n FROM mart_board_performance WHERE viewer = :viewer AND scope = 'service' "
        "AND breakdown = '' AND period_key = :period GROUP BY rag",
        viewer=viewer,
        period=PERIOD,
    )
    return {r["rag"]: r["n"] for r in rows}


def test_a_board_pack_counts_ratings_as_the_warehouse_does(
    board_warehouse: Warehouse, packs: dict[str, BoardPack]
) -> None:
    expected = _rating_counts(board_warehouse, _viewer(BD_BOARD))
    found = {
        r["Rating"]: r["KPIs"] for r in tables(open_pack(packs["board"].content))["RatingCounts"].records()
    }
    assert found == {label: expected.get(rag, 0) for rag, label in RATING_ROWS.items()}
    assert sum(found.values()) > 10 and found["Red"] > 0


def test_a_commissioners_pack_hides_what_its_board_hides(
    board_warehouse: Warehouse, packs: dict[str, BoardPack]
) -> None:
    """Barking & Dagenham's contracts are its board's, so its pack, suppressed
    in the app, must show exactly what the ETL gives the board."""
    lbbd, board = _viewer(LBBD), _viewer(BD_BOARD)
    contracts = "SELECT DISTINCT contract_id FROM mart_renewals WHERE viewer = :viewer ORDER BY 1"
    assert board_warehouse.rows(contracts, viewer=lbbd) == board_warehouse.rows(contracts, viewer=board)
    own = open_pack(packs["lbbd"].content)
    boards = open_pack(packs["board"].content)
    for name in (
        "OutputsKPIs",
        "QualityKPIs",
        "OutcomesKPIs",
        "OutcomeMeasures",
        "ValueForMoney",
        "Exceptions",
    ):
        assert tables(own)[name].rows == tables(boards)[name].rows, name
    # Unsuppressed, the commissioner's own rows hold small counts; the pack shows none of them.
    raw = board_warehouse.rows(
        "SELECT contract_reference, kpi_name, period_label, actual FROM mart_board_performance "
        "WHERE viewer = :viewer AND scope = 'service' AND breakdown = '' AND unit = 'count' "
        "AND actual BETWEEN 1 AND 4",
        viewer=lbbd,
    )
    assert raw, "the demo should have small counts to hide"
    shown = {
        (r["Service"], r["KPI"], q): r[q]
        for t in tables(own).values()
        if t.name.endswith("KPIs")
        for r in t.records()
        for q in t.header
        if QUARTER_HEADER.match(q)
    }
    for row in raw:
        assert shown[(row["contract_reference"], row["kpi_name"], row["period_label"])] == CONFIDENTIAL, row
    # The same KPIs are counted, some of them under "Rating hidden".
    own_counts = {r["Rating"]: r["KPIs"] for r in tables(own)["RatingCounts"].records()}
    assert own_counts == {r["Rating"]: r["KPIs"] for r in tables(boards)["RatingCounts"].records()}
    assert sum(own_counts.values()) == sum(_rating_counts(board_warehouse, lbbd).values())


@pytest.mark.parametrize("name", ["lbbd", "board", "halton"])
def test_no_small_count_anywhere_in_a_pack(packs: dict[str, BoardPack], name: str) -> None:
    assert_no_small_counts(packs[name].content, THRESHOLD)


def test_exceptions_carry_the_providers_commentary_from_the_accepted_return(
    packs: dict[str, BoardPack],
) -> None:
    exceptions = tables(open_pack(packs["lbbd"].content))["Exceptions"].records()
    assert exceptions and {e["Rating"] for e in exceptions} <= {"Red", "Amber"}
    # Red before amber.
    assert [e["Rating"] for e in exceptions] == sorted(
        (e["Rating"] for e in exceptions), key=["Red", "Amber"].index
    )
    for exception in exceptions:
        assert exception["Provider's commentary"] == _accepted_commentary(
            exception["Service"], exception["KPI"]
        )
    assert {e["Provider's commentary"] for e in exceptions} == {"Illustrative demo figures."}


def _accepted_commentary(reference: str, kpi_name: str) -> str:
    """What the provider wrote on a KPI in the version the commissioner accepted
    (the latest submitted one), read straight from the app database."""
    versions = db.session.scalars(
        select(ReturnVersion)
        .join(Return, Return.id == ReturnVersion.return_id)
        .join(Contract, Contract.id == Return.contract_id)
        .where(
            Contract.reference == reference,
            Return.period == PERIOD,
            Return.state == ReturnState.ACCEPTED.value,
            ReturnVersion.submitted.is_(True),
        )
        .order_by(ReturnVersion.number)
    ).all()
    assert versions, (reference, PERIOD)
    notes = {c.kpi.name: c.text for c in versions[-1].commentary}
    return notes[kpi_name]


def test_services_without_an_accepted_return_are_named(packs: dict[str, BoardPack]) -> None:
    summary = open_pack(packs["lbbd"].content)["Summary"]
    lines = [c.value for row in summary.iter_rows(max_col=1) for c in row if isinstance(c.value, str)]
    # The refuge's Q4 return was submitted but not accepted by 6 May 2014.
    missing = next(line for line in lines if line.startswith("No accepted return for Q4 2013/14 yet"))
    assert "LBBD-DV-002 Refuge supported accommodation" in missing


def test_each_theme_has_native_charts_over_the_chart_data(packs: dict[str, BoardPack]) -> None:
    content = packs["halton"].content
    found = charts(content)
    assert len(found) >= 3
    series = [s for chart in found.values() for s in chart]
    kpi_series = [s for s in series if s.name in ("Actual", "Target")]
    assert kpi_series and all(s.values_ref.startswith("'Chart data'!") for s in kpi_series)
    assert {s.name for s in series} >= {"Actual", "Target", "KPIs"}


def test_renewals_are_the_warehouses_most_pressing_first(
    board_warehouse: Warehouse, packs: dict[str, BoardPack]
) -> None:
    renewals = tables(open_pack(packs["lbbd"].content))["RenewalsDue"].records()
    rows = board_warehouse.rows(
        "SELECT contract_reference, decision_by_date, options_remaining FROM mart_renewals "
        "WHERE viewer = :viewer AND status NOT IN ('expired', 'terminated', 'decommissioned') "
        "ORDER BY decision_by_date, end_date, contract_reference",
        viewer=_viewer(LBBD),
    )
    assert [r["Service"] for r in renewals] == [r["contract_reference"] for r in rows]
    for shown, stored in zip(renewals, rows, strict=True):
        assert shown["Decision needed by"].date() == _as_date(stored["decision_by_date"])
        assert shown["Extension options left"] == stored["options_remaining"]


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def test_notes_state_the_threshold_and_as_at_date(packs: dict[str, BoardPack]) -> None:
    notes = {
        r["Topic"]: r["Explanation"] for r in tables(open_pack(packs["board"].content))["Notes"].records()
    }
    assert "from 1 to 4" in notes["[c] confidential"]
    assert notes["Figures as at"].startswith("6 May 2014")


def test_the_packs_are_kept_for_people_to_look_at(
    packs: dict[str, BoardPack], artifacts: Path, backend: str
) -> None:
    for name in ("lbbd", "board"):
        target = artifacts / f"board-pack-{name}-{backend}.xlsx"
        target.write_bytes(packs[name].content)
        assert open_pack(target.read_bytes()).sheetnames[0] == "Summary"
