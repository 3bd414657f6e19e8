"""The backup and restore drill (docs/backup.md), on both backends.

The source is the demo with its year of 2013/14 returns (real workbooks,
uploaded through the checks as providers upload them) and a full ETL run.
PostgreSQL: a real `pg_dump --format=custom`, `pg_restore` into a new
database, as the procedure says. SQLite: the online backup API. Then the
restore must match its source exactly, and a restore damaged afterwards
must be reported table by table and version by version, and nothing else.
"""

from __future__ import annotations

import subprocess
import uuid
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from etl.app import warehouse_url
from etl.schema import metadata as warehouse_metadata
from monitor.backup import BackupError, copy_sqlite, verify_restore
from monitor.db import Base, db
from monitor.kpis.models import ReturnCommentary, ReturnVersion
from tests.conftest import POSTGRES_SERVER, Warehouse

PG_DUMP = "/usr/bin/pg_dump"
PG_RESTORE = "/usr/bin/pg_restore"


def _libpq(url: str) -> str:
    """The URL as pg_dump and pg_restore take it: no SQLAlchemy driver name."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args[0]} failed: {done.stderr}"


def _restore_postgres(source_url: str, folder: Path) -> Iterator[str]:
    dump = folder / "monitor.dump"
    _run(PG_DUMP, "--format=custom", "--file", str(dump), "--dbname", _libpq(source_url))
    name = f"monitor_restore_{uuid.uuid4().hex[:10]}"
    server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    restored = make_url(source_url).set(database=name).render_as_string(hide_password=False)
    try:
        _run(
            PG_RESTORE,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            _libpq(restored),
            str(dump),
        )
        yield restored
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


@pytest.fixture
def restored(warehouse: Warehouse, backend: str, tmp_path: Path) -> Iterator[str]:
    """A restore of the warehouse app's database, made as docs/backup.md says."""
    source_url = warehouse.app.config["DATABASE_URL"]
    if backend == "postgresql":
        yield from _restore_postgres(source_url, tmp_path)
        return
    target = tmp_path / "restored.sqlite3"
    copied = warehouse.app.test_cli_runner().invoke(args=["backup", "sqlite", str(target)])
    assert copied.exit_code == 0, copied.output
    yield f"sqlite:///{target}"


def _damage(url: str, version_id: int, postgresql: bool) -> None:
    """One commentary row gone, one workbook's bytes changed and, on
    PostgreSQL, one warehouse row gone."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("DELETE FROM return_commentary WHERE id = (SELECT MIN(id) FROM return_commentary)")
        )
        content = connection.execute(
            text("SELECT content FROM return_versions WHERE id = :id"), {"id": version_id}
        ).scalar_one()
        changed = bytes(content[:-1]) + bytes([content[-1] ^ 0x01])
        connection.execute(
            text("UPDATE return_versions SET content = :content WHERE id = :id"),
            {"content": changed, "id": version_id},
        )
        if postgresql:
            connection.execute(
                text(
                    "DELETE FROM warehouse.fact_funding WHERE ctid = (SELECT MIN(ctid) FROM warehouse.fact_funding)"
                )
            )
    engine.dispose()


def test_a_restore_matches_its_source_and_damage_is_named(
    warehouse: Warehouse, restored: str, backend: str
) -> None:
    source_url = warehouse.app.config["DATABASE_URL"]
    versions = db.session.execute(
        select(ReturnVersion.id, ReturnVersion.content).order_by(ReturnVersion.id)
    ).all()
    assert len(versions) >= 1
    assert all(zipfile.is_zipfile(BytesIO(content)) for _, content in versions)  # real .xlsx workbooks
    commentary = db.session.scalar(select(func.count(ReturnCommentary.id))) or 0
    labels = {
        row.id: f"return {row.return_id} version {row.number}, {row.filename}"
        for row in db.session.execute(
            select(ReturnVersion.id, ReturnVersion.return_id, ReturnVersion.number, ReturnVersion.filename)
        )
    }
    db.session.remove()

    result = verify_restore(source_url, restored)
    assert result.matches, [str(d) for d in result.differences]
    assert result.files == len(versions)
    app_tables = len(Base.metadata.tables) + 1  # and alembic_version
    # On PostgreSQL the warehouse is a schema of the app database, so the dump holds it.
    assert result.tables == app_tables + (len(warehouse_metadata.tables) if backend == "postgresql" else 0)
    runner = warehouse.app.test_cli_runner()
    passed = runner.invoke(args=["backup", "verify", "--restored", restored])
    assert passed.exit_code == 0, passed.output
    assert passed.output.startswith("backup verify: the restored database matches its source")

    damaged = versions[len(versions) // 2].id
    _damage(restored, damaged, postgresql=backend == "postgresql")
    result = verify_restore(source_url, restored)
    assert [d.where for d in result.differences] == [
        "table return_commentary",
        *(["table warehouse.fact_funding"] if backend == "postgresql" else []),
        f"return version {damaged} ({labels[damaged]})",
    ], [str(d) for d in result.differences]
    assert result.differences[0].what == (
        f"{commentary:,} rows in the source, {commentary - 1:,} in the restored database"
    )
    damaged_file = result.differences[-1].what
    assert "the restored file's SHA-256 is" in damaged_file and "differs from the source's" in damaged_file

    failed = runner.invoke(args=["backup", "verify", "--source", source_url, "--restored", restored])
    assert failed.exit_code == 1, failed.output
    assert f"{len(result.differences)} differences" in failed.output
    assert f"return version {damaged} (" in failed.output
    assert "table return_commentary" in failed.output


def test_a_sqlite_warehouse_file_copies_and_verifies(
    warehouse: Warehouse, backend: str, tmp_path: Path
) -> None:
    """On SQLite the warehouse is a file of its own; on PostgreSQL the test
    above covers it, as a schema of the app database."""
    url = warehouse_url(warehouse.app)
    if backend == "postgresql":
        assert url == warehouse.app.config["DATABASE_URL"]
        refused = warehouse.app.test_cli_runner().invoke(
            args=["backup", "sqlite", str(tmp_path / "x.sqlite3")]
        )
        assert refused.exit_code == 1 and "back PostgreSQL up with pg_dump" in refused.output
        return
    source = _sqlite_path(url)
    target = tmp_path / "restored.warehouse.sqlite3"
    copy_sqlite(source, target)
    result = verify_restore(f"sqlite:///{source}", f"sqlite:///{target}")
    assert result.matches, result.differences
    assert (result.tables, result.files) == (len(warehouse_metadata.tables), 0)
    with pytest.raises(BackupError, match="already exists"):
        copy_sqlite(source, target)


def test_verify_refuses_a_missing_sqlite_file(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.sqlite3"
    with pytest.raises(BackupError, match="there is no SQLite database"):
        verify_restore(f"sqlite:///{missing}", f"sqlite:///{missing}")
    assert not missing.exists()
