"""`/healthz`: 200 when the database answers, 503 with a reason when it does not,
without signing in and without saying more than a probe needs."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from monitor.db import db
from tests.conftest import Auth


def unreachable_url(backend: str, tmp_path: Path) -> str:
    """A database URL of the same kind that nothing answers: a file in a folder
    that does not exist, or a PostgreSQL port nothing listens on."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'missing-folder' / 'gone.sqlite3'}"
    return "postgresql+psycopg://monitor:not-a-real-password@127.0.0.1:1/monitor?connect_timeout=2"


def test_healthz_answers_ok_without_signing_in(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_answers_the_same_when_signed_in(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in("commissioner@lbbd.demo.example")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(
    app: Flask, client: FlaskClient, backend: str, tmp_path: Path
) -> None:
    url = unreachable_url(backend, tmp_path)
    db.dispose()
    db.bind(url)
    try:
        response = client.get("/healthz")
    finally:
        db.dispose()
        db.bind(app.config["DATABASE_URL"])

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"] == "unreachable"
    assert body["reason"] == "The database did not answer."
    # Nothing of the connection leaks to whoever can reach the probe.
    text = response.get_data(as_text=True)
    for secret in ("not-a-real-password", "127.0.0.1", "psycopg", "sqlite", "missing-folder"):
        assert secret not in text


def test_healthz_recovers_when_the_database_is_back(
    app: Flask, client: FlaskClient, backend: str, tmp_path: Path
) -> None:
    db.dispose()
    db.bind(unreachable_url(backend, tmp_path))
    try:
        assert client.get("/healthz").status_code == 503
    finally:
        db.dispose()
        db.bind(app.config["DATABASE_URL"])

    assert client.get("/healthz").status_code == 200


def test_healthz_only_reads(client: FlaskClient) -> None:
    assert client.post("/healthz").status_code == 405
