"""Engine, session and the declarative base with a constraint naming convention.

One `Database` object is created at import time but bound to an engine only
inside `create_app`, so importing the package never connects anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._factory = sessionmaker(expire_on_commit=False)
        self.session = scoped_session(self._factory)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("the database is not bound; call init_app first")
        return self._engine

    def init_app(self, app: Flask) -> None:
        self.bind(app.config["DATABASE_URL"])
        app.extensions["database"] = self

        @app.teardown_appcontext
        def remove_session(_exc: BaseException | None) -> None:
            self.session.remove()

    def bind(self, url: str) -> None:
        """Point the engine and sessions at `url` (a process serves one app;
        the tests re-point after building a database for another)."""
        self._engine = make_engine(url)
        self._factory.configure(bind=self._engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll everything back on any error."""
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    def dispose(self) -> None:
        self.session.remove()
        if self._engine is not None:
            self._engine.dispose()


db = Database()


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` once, when this session's transaction commits; never if it rolls back first."""
    settled = False

    def committed(_session: Session) -> None:
        nonlocal settled
        if not settled:
            settled = True
            action()

    def rolled_back(_session: Session) -> None:
        nonlocal settled
        settled = True

    event.listen(session, "after_commit", committed)
    event.listen(session, "after_rollback", rolled_back)
