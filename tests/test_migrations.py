"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect

from monitor.cli import alembic_config
from monitor.db import Base, db


def test_models_and_migrations_agree(app: Flask) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_single_head_and_database_at_head(app: Flask) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == script.get_current_head()


def test_constraints_follow_the_naming_convention(app: Flask) -> None:
    inspector = inspect(db.engine)
    foreign_keys = inspector.get_foreign_keys("funding_lines")
    assert {fk["name"] for fk in foreign_keys} == {
        "fk_funding_lines_contract_id_contracts",
        "fk_funding_lines_funder_id_organisations",
    }
    checks = {c["name"] for c in inspector.get_check_constraints("contracts")}
    assert "ck_contracts_ends_after_start" in checks


def test_database_refuses_what_services_refuse(demo: Flask) -> None:
    """The rules hold in the database too, for anything that bypasses the app."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    statements = [
        "UPDATE funding_lines SET amount = -1",
        "UPDATE funding_lines SET financial_year = '2013-14'",
        "UPDATE contracts SET end_date = '2000-01-01'",
        "UPDATE contracts SET category = 'essential'",
        "UPDATE contracts SET provider_id = 999999",
    ]
    for statement in statements:
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(text(statement))
