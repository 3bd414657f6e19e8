"""Migrations on an installation whose library is already loaded.

0004: the rules the return checks used to hold in code become declared rules,
all errors as before. 0010: the unmet need and safe accommodation KPIs arrive
as the standard library declares them, with their rules."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import Engine, create_engine, inspect, text

from monitor.cli import alembic_config
from monitor.kpis.library.definitions import STANDARD_KPIS, STANDARD_RULES
from tests.conftest import POSTGRES_SERVER


@pytest.fixture
def scratch(app: Flask, backend: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the backend under test, apart from the shared one."""
    if backend == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'installed.sqlite3'}")
        yield engine
        engine.dispose()
        return
    name = f"monitor_installed_{uuid.uuid4().hex[:10]}"
    server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def add_kpi(
    engine: Engine, code: str, numerator: str | None = None, breakdowns: tuple[str, ...] = ()
) -> None:
    with engine.begin() as connection:
        kpi_id = connection.execute(
            text(
                "INSERT INTO kpis (code, name, definition, unit, direction, category, rollup, "
                "numerator_label, denominator_label, active) VALUES (:code, :code, 'A KPI', :unit, "
                "'higher is better', 'output', 'sum', :numerator, :denominator, :active) RETURNING id"
            ),
            {
                "code": code,
                "unit": "percentage" if numerator else "count",
                "numerator": numerator,
                "denominator": "Out of" if numerator else None,
                "active": True,
            },
        ).scalar_one()
        for position, label in enumerate(breakdowns, 1):
            connection.execute(
                text("INSERT INTO kpi_breakdowns (kpi_id, position, label) VALUES (:kpi, :position, :label)"),
                {"kpi": kpi_id, "position": position, "label": label},
            )


def test_upgrade_declares_the_rules_an_installed_library_was_checked_by(scratch: Engine) -> None:
    config = alembic_config()
    config.attributes["engine"] = scratch
    command.upgrade(config, "0003")
    add_kpi(scratch, "REF-RECEIVED", breakdowns=("Police", "Health"))
    add_kpi(scratch, "REF-ACCEPTED")
    add_kpi(scratch, "CONTACT-2WD", numerator="Contacted")
    add_kpi(scratch, "PERP-COMPLETIONS")  # its whole, PERP-STARTS, is not in this library
    add_kpi(scratch, "ISVA-COURT", breakdowns=("Crown court",))  # a council's own KPI
    command.upgrade(config, "0004")
    with scratch.connect() as connection:
        rules = connection.execute(
            text(
                "SELECT r.kind, k.code, o.code, r.severity FROM kpi_consistency_rules r "
                "JOIN kpis k ON k.id = r.kpi_id JOIN kpis o ON o.id = r.related_kpi_id"
            )
        ).all()
    assert sorted(tuple(rule) for rule in rules) == [
        ("breakdown", "ISVA-COURT", "ISVA-COURT", "error"),
        ("breakdown", "REF-RECEIVED", "REF-RECEIVED", "error"),
        ("denominator", "CONTACT-2WD", "REF-ACCEPTED", "error"),
        ("part of", "REF-ACCEPTED", "REF-RECEIVED", "error"),
    ]
    command.downgrade(config, "0003")
    assert "kpi_consistency_rules" not in inspect(scratch).get_table_names()


# The KPIs migration 0010 adds to an installed library.
ADDED_IN_0010 = {
    "REF-NOT-TAKEN",
    "WAITING-END",
    "DAYS-TO-CONTACT",
    "CHILD-SUPPORT-WANTED",
    "CHILD-SUPPORT-RECEIVED",
    "SA-SUPPORTED",
    "SA-BLACK-MINORITISED",
    "SA-MENTAL-HEALTH",
    "SA-DISABLED",
    "SA-LGBT",
    "SA-ENDED",
    "SA-BEDSPACES",
}


def _library(engine: Engine) -> dict[str, tuple[object, ...]]:
    with engine.connect() as connection:
        kpis = connection.execute(
            text("SELECT id, code, name, definition, unit, direction, category, rollup FROM kpis")
        ).all()
        parts = connection.execute(text("SELECT kpi_id, label FROM kpi_breakdowns ORDER BY position")).all()
    return {
        code: (
            name,
            definition,
            unit,
            direction,
            category,
            rollup,
            tuple(p.label for p in parts if p.kpi_id == id_),
        )
        for id_, code, name, definition, unit, direction, category, rollup in kpis
    }


def test_0010_adds_the_unmet_need_kpis_as_the_library_declares_them(scratch: Engine) -> None:
    config = alembic_config()
    config.attributes["engine"] = scratch
    command.upgrade(config, "0009")
    add_kpi(scratch, "REF-RECEIVED", breakdowns=("Police", "Health"))
    add_kpi(scratch, "WAITING-END")  # a council's own KPI with a code the library now uses
    command.upgrade(config, "0010")
    library = _library(scratch)
    standard = {
        spec.code: (
            spec.name,
            spec.definition,
            spec.unit,
            spec.direction,
            spec.category,
            spec.rollup,
            spec.breakdowns,
        )
        for spec in STANDARD_KPIS
        if spec.code in ADDED_IN_0010 - {"WAITING-END"}
    }
    assert {code: library[code] for code in standard} == standard
    # The council's own KPI is left as it was.
    assert library["WAITING-END"][0] == "WAITING-END"
    with scratch.connect() as connection:
        rules = {
            tuple(rule)
            for rule in connection.execute(
                text(
                    "SELECT r.kind, k.code, o.code FROM kpi_consistency_rules r "
                    "JOIN kpis k ON k.id = r.kpi_id JOIN kpis o ON o.id = r.related_kpi_id"
                )
            )
        }
    expected = {
        (kind.value, code, related)
        for kind, code, related in STANDARD_RULES
        if {code, related} & (ADDED_IN_0010 - {"WAITING-END"}) and {code, related} <= set(library)
    } | {("breakdown", code, code) for code, fields in standard.items() if fields[-1]}
    assert rules == expected


def test_0010_leaves_an_unloaded_library_to_load_library(scratch: Engine) -> None:
    config = alembic_config()
    config.attributes["engine"] = scratch
    command.upgrade(config, "0010")
    assert _library(scratch) == {}
