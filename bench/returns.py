"""How long checking a return workbook takes, against simply reading it with pandas.

    .venv/bin/python -m bench.returns            (20 runs each)
    .venv/bin/python -m bench.returns --runs 50

Builds a framework of 60 KPIs in a throwaway SQLite database (the standard
library plus made-up ones: some by category, some as two counts), generates
the template, fills every input and 300 outcome rows, then times
`SubmitReturn(...).run()` (every check stage and the store, committed,
database look-ups included) and a plain
`pandas.read_excel(path, sheet_name=None, engine="openpyxl")` of the same file,
alternating, and prints the medians and their ratio. The aim is a ratio below
1: all the checks for less than pandas takes just to read the sheets.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from alembic import command
from sqlalchemy import select

from monitor import create_app
from monitor.audit import Actor, acting_as
from monitor.auth.models import User
from monitor.cli import alembic_config
from monitor.config import TestConfig
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.demo import load_demo
from monitor.kpis.framework.history import items_in_force
from monitor.kpis.library.definitions import load_library
from monitor.kpis.models import FrameworkItem, Kpi, KpiBreakdown, Return
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.commands import Stored, SubmitReturn, Upload
from monitor.kpis.returns.template import build_template

KPI_COUNT = 60
OUTCOME_ROWS = 300
REFERENCE = "HBC-CYP-DA-01"
QUARTER = Quarter(2013, 3)
TODAY = date(2013, 12, 2)


def _require_pandas() -> Any:
    if importlib.util.find_spec("pandas") is None:
        raise SystemExit(
            "bench.returns needs pandas to compare against: install it in the venv "
            "(.venv/bin/pip install pandas) and run again"
        )
    return importlib.import_module("pandas")


def _framework() -> None:
    """The standard library plus made-up KPIs up to 60, all on the Halton contract."""
    with acting_as(Actor(None, "bench")), db.transaction() as session:
        load_library(session)
        existing = list(session.scalars(select(Kpi)))
        for number in range(KPI_COUNT - len(existing)):
            kind = number % 4
            kpi = Kpi(
                code=f"BENCH-{number:02d}",
                name=f"Bench measure {number}",
                definition="A made-up KPI to make the framework the size of a large one.",
                unit="percentage" if kind == 2 else "count",
                direction="higher is better",
                category="output",
                rollup="mean" if kind == 2 else "sum",
                numerator_label="Part" if kind == 2 else None,
                denominator_label="Whole" if kind == 2 else None,
                breakdowns=[KpiBreakdown(position=n, label=f"Group {n}") for n in range(1, 5)]
                if kind == 1
                else [],
            )
            session.add(kpi)
            existing.append(kpi)
        session.flush()
        contract = session.execute(select(Contract).where(Contract.reference == REFERENCE)).scalar_one()
        for kpi in existing:
            session.add(
                FrameworkItem(
                    contract_id=contract.id,
                    kpi_id=kpi.id,
                    target=Decimal(1) if kpi.direction == "higher is better" else Decimal(1000),
                    target_basis="quarter",
                    effective_from=str(QUARTER),
                )
            )


def fill(
    content: bytes, *, outcome_rows: int = OUTCOME_ROWS, broken: bool = False, explain: bool = False
) -> bytes:
    """Every input cell filled, as a provider would: found by the tags, figures
    that pass. `broken` types the first figure as a word ("five"), which the
    checks refuse; `explain` writes an explanation against every KPI on the
    Commentary sheet (a figure below its target needs one). bench/peak.py
    uploads a broken workbook before the fixed one."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    typo_made = not broken
    tables = [("KPIs", "KPIS"), ("Outcomes", "OUTCOMES")] + (
        [("Commentary", "COMMENTARY")] if explain else []
    )
    for sheet_name, tag in tables:
        if sheet_name not in book.sheetnames:  # a framework without outcome measures has no Outcomes sheet
            continue
        sheet = book[sheet_name]
        columns: dict[str, int] = {}
        inside = False
        filled_outcomes = parts = 0
        for row in sheet.iter_rows():
            marker = row[0].value
            if marker == f"START:{tag}":
                columns = {cell.value: cell.column for cell in row[1:] if cell.value}
                inside = True
                continue
            if marker == f"END:{tag}" or not inside:
                inside = inside and marker != f"END:{tag}"
                continue
            number = row[0].row
            if tag == "COMMENTARY":
                sheet.cell(
                    number, columns["explanation"]
                ).value = "Two posts were vacant for most of the quarter."
            elif tag == "KPIS":
                line = sheet.cell(number, columns["line"]).value
                # Counts equal to the denominators, as the library's consistency rules ask.
                value = {"breakdown": 5, "numerator": 8, "denominator": 10, "value": 10}.get(line)
                if line == "total":
                    value, parts = parts, 0
                if value is not None:
                    sheet.cell(number, columns["value"]).value = value if typo_made else "five"
                    typo_made = True
                    parts += value if line == "breakdown" else 0
            elif filled_outcomes < outcome_rows:
                measure = ("SDQ", "WEMWBS", "SWEMWBS")[filled_outcomes % 3]
                informant = "parent" if measure == "SDQ" else None
                scores = {"SDQ": (22, 15), "WEMWBS": (40, 48), "SWEMWBS": (20, 25)}[measure]
                sheet.cell(number, columns["measure"]).value = measure
                sheet.cell(number, columns["informant"]).value = informant
                sheet.cell(number, columns["pre_score"]).value = scores[0]
                sheet.cell(number, columns["post_score"]).value = scores[1]
                filled_outcomes += 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def run(runs: int) -> dict[str, Any]:
    pandas = _require_pandas()
    with tempfile.TemporaryDirectory() as tmp:
        config = TestConfig()
        config.DATABASE_URL = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        config.SECRET_KEY = "bench-" + "x" * 40
        config.TODAY = "2013-12-02"
        app = create_app(config)
        with app.app_context():
            command.upgrade(alembic_config(), "head")
            load_demo(db)
            _framework()
            session = db.session()
            contract = session.execute(select(Contract).where(Contract.reference == REFERENCE)).scalar_one()
            kpis = len(items_in_force(session, contract.id, QUARTER))
            path = Path(tmp) / "return.xlsx"
            path.write_bytes(
                fill(build_template(session, contract, QUARTER, generated_at=datetime(2013, 12, 2)))
            )

            uploader = session.execute(
                select(User).where(User.email == "commissioner@halton.demo.example")
            ).scalar_one()

            def ours() -> None:
                """Validate and store, as an upload does: the command every channel runs,
                committed. The return is removed afterwards, untimed, so every run stores
                version 1 (and is not refused as an identical file)."""
                upload = Upload(path.name, path.read_bytes())
                with acting_as(Actor(uploader.id, uploader.email)):
                    outcome = SubmitReturn(
                        uploader, contract, QUARTER, upload, False, True, settings=app.config, today=TODAY
                    ).run()
                if not isinstance(outcome, Stored):
                    raise SystemExit(f"bench: the filled workbook was not stored: {outcome}")

            def forget() -> None:
                with acting_as(Actor(None, "bench")), db.transaction() as session:
                    for record in session.scalars(select(Return).where(Return.contract_id == contract.id)):
                        session.delete(record)
                db.session.expire_all()

            def check_only() -> None:
                """The same command validated only: the staged checks and the look-ups, nothing stored."""
                upload = Upload(path.name, path.read_bytes())
                SubmitReturn(
                    uploader, contract, QUARTER, upload, False, True, settings=app.config, today=TODAY
                ).validate()

            def plain() -> None:
                pandas.read_excel(path, sheet_name=None, engine="openpyxl")

            # The check first: once stored, the same file would be refused as identical.
            calls: dict[str, Callable[[], None]] = {
                "check only": check_only,
                "check and store": ours,
                "pandas.read_excel": plain,
            }
            timings: dict[str, list[float]] = {name: [] for name in calls}
            for call in calls.values():  # warm imports and caches
                call()
                forget()
            for _ in range(runs):
                for name, call in calls.items():
                    started = time.perf_counter()
                    call()
                    timings[name].append(time.perf_counter() - started)
                forget()
            db.dispose()
    medians = {name: _median_ms(samples) for name, samples in timings.items()}
    return {
        "kpis": kpis,
        "outcome_rows": OUTCOME_ROWS,
        "bytes": path.stat().st_size if path.exists() else None,
        "runs": runs,
        "median_ms": medians,
        "ratio": round(medians["check and store"] / medians["pandas.read_excel"], 2),
        "check_ratio": round(medians["check only"] / medians["pandas.read_excel"], 2),
        "pandas": pandas.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    results = run(args.runs)
    print(
        f"bench: {results['kpis']} KPIs, {results['outcome_rows']} outcome rows, "
        f"median of {results['runs']} runs each (pandas {results['pandas']})"
    )
    for name, value in results["median_ms"].items():
        print(f"  {name:<18} {value:>8.2f} ms")
    print(f"  ratio (check and store) / pandas.read_excel: {results['ratio']:.2f}")
    print(f"  ratio (check only) / pandas.read_excel:      {results['check_ratio']:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
