"""Alembic environment: runs against the app's engine (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic import context

# Every model module, so the metadata holds every table whoever runs the migrations.
import monitor.audit
import monitor.auth.models
import monitor.benchmarking.models
import monitor.contracts.models
import monitor.kpis.library.rules
import monitor.kpis.models
import monitor.outbox.models
import monitor.reports.models
import monitor.sso.models
import monitor.statutory.models  # noqa: F401 - registers the tables
from monitor.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER constraints in place; batch mode copies the table.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
