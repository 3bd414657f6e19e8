"""Bearer tokens: the only way into the API; errors are JSON, never HTML."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from monitor.auth.models import ApiToken, User
from monitor.db import db
from tests.api.conftest import Headers, token_for
from tests.conftest import DEMO_USERS, Auth


@pytest.mark.parametrize(
    ("header", "invalid"),
    [
        (None, False),
        ("", False),
        ("Bearer", True),
        ("Bearer   ", True),
        ("Basic dXNlcjpwYXNz", True),
        ("Bearer cm_not-a-real-token", True),
        ("Bearer " + "x" * 5000, True),
        ("Bearer cm_caf\u00e9", True),
    ],
)
def test_missing_or_bad_token_is_401_json(
    demo: object, client: FlaskClient, header: str | None, invalid: bool
) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = client.get("/api/v1/contracts", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"message"}
    assert "Authorization" in body["message"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer")
    assert ('error="invalid_token"' in challenge) is invalid
    assert "<html" not in response.get_data(as_text=True).lower()


def test_valid_token_reads_and_records_last_use(demo: object, client: FlaskClient) -> None:
    token = token_for(DEMO_USERS["lbbd"])
    assert db.session.scalar(select(ApiToken.last_used_at)) is None
    response = client.get("/api/v1/contracts", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200
    with db.engine.connect() as connection:  # committed, not just flushed
        assert connection.scalar(select(ApiToken.last_used_at)) is not None


def test_revoked_token_and_inactive_user_are_refused(demo: object, client: FlaskClient) -> None:
    token = token_for(DEMO_USERS["lbbd"])
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/contracts", headers=auth).status_code == 200
    with db.transaction() as session:
        session.execute(update(ApiToken).values(revoked=True))
    assert client.get("/api/v1/contracts", headers=auth).status_code == 401

    other = {"Authorization": f"Bearer {token_for(DEMO_USERS['halton'])}"}
    assert client.get("/api/v1/contracts", headers=other).status_code == 200
    with db.transaction() as session:
        session.execute(update(User).where(User.email == DEMO_USERS["halton"]).values(active=False))
    assert client.get("/api/v1/contracts", headers=other).status_code == 401


def test_session_cookie_is_ignored(demo: object, client: FlaskClient, auth: Auth) -> None:
    assert auth.sign_in(DEMO_USERS["lbbd"]).status_code == 302
    assert client.get("/contracts").status_code == 200  # signed in on the web
    response = client.get("/api/v1/contracts")
    assert response.status_code == 401
    assert response.get_json()["message"].startswith("Authorization header missing")


def test_token_user_not_cookie_user_is_the_reader(
    demo: object, client: FlaskClient, auth: Auth, headers: Headers, contract_id: Callable[[str], int]
) -> None:
    # Signed in on the web as Halton, calling with an LBBD token: LBBD's view applies.
    auth.sign_in(DEMO_USERS["halton"])
    lbbd_contract = f"/api/v1/contracts/{contract_id('LBBD-DV-002')}"
    halton_contract = f"/api/v1/contracts/{contract_id('HBC-CYP-DA-01')}"
    assert client.get(lbbd_contract, headers=headers("lbbd")).status_code == 200
    assert client.get(halton_contract, headers=headers("lbbd")).status_code == 404


def test_openapi_needs_no_token(app: object, client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.1")


def test_unknown_api_address_and_method_are_json(demo: object, client: FlaskClient, headers: Headers) -> None:
    missing = client.get("/api/v1/nothing-here", headers=headers("lbbd"))
    assert missing.status_code == 404
    assert set(missing.get_json()) == {"message"}
    wrong_method = client.delete("/api/v1/contracts", headers=headers("lbbd"))
    assert wrong_method.status_code == 405
    assert set(wrong_method.get_json()) == {"message"}
