"""Two-factor authentication: who must use it, the sign-in step, codes used
once, recovery codes, the pending sign-in's expiry, setting it up and turning it off."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from monitor import secret_box
from monitor.auth import mfa
from monitor.auth.models import RecoveryCode, User
from monitor.db import db
from monitor.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.auth.helpers import first_error, page_of, sign_in_history, user_row
from tests.conftest import DEMO_USERS, Auth, two_factor_code

ADMIN = DEMO_USERS["admin"]


def _password(client: FlaskClient, email: str) -> str:
    response = client.post("/sign-in", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return str(response.headers["Location"])


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/contracts").status_code == 200


def _code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * 30)


def test_the_demo_admin_keeps_its_stored_secret(demo: Flask) -> None:
    admin = user_row(ADMIN)
    assert admin.mfa_enabled and admin.mfa_secret is not None
    assert secret_box.decrypt(admin.mfa_secret) == DEMO_TOTP_SECRET


def test_an_admin_is_asked_for_a_code_after_the_password(demo: Flask, client: FlaskClient) -> None:
    assert _password(client, ADMIN) == "/sign-in/two-factor"
    assert not _signed_in(client)  # pending is not signed in
    page = page_of(client.get("/sign-in/two-factor"))
    code_input = page.select_one("input[name=code]")
    assert code_input["autocomplete"] == "one-time-code" and code_input["inputmode"] == "numeric"
    assert page.find("a", string="Use a recovery code")["href"] == "/sign-in/two-factor/recovery-code"

    wrong = client.post("/sign-in/two-factor", data={"code": "000000"})
    assert wrong.status_code == 400
    assert first_error(wrong).startswith("The code is not correct")
    assert not _signed_in(client)

    done = client.post("/sign-in/two-factor", data={"code": two_factor_code(ADMIN)})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert _signed_in(client)
    assert sign_in_history(ADMIN) == [("two_factor", "failed"), ("two_factor", "signed_in")]


def test_the_pending_sign_in_keeps_where_the_person_was_going(demo: Flask, client: FlaskClient) -> None:
    response = client.post("/sign-in?next=/renewals", data={"email": ADMIN, "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/sign-in/two-factor"
    done = client.post("/sign-in/two-factor", data={"code": two_factor_code(ADMIN)})
    assert done.headers["Location"] == "/renewals"


def test_a_code_works_once(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    step = mfa.current_step()
    code = _code_at(DEMO_TOTP_SECRET, step)
    _password(client, ADMIN)
    assert client.post("/sign-in/two-factor", data={"code": code}).status_code == 302
    assert user_row(ADMIN).mfa_last_step == step
    auth.sign_out()

    _password(client, ADMIN)
    replay = client.post("/sign-in/two-factor", data={"code": code})
    assert replay.status_code == 400 and not _signed_in(client)
    # An earlier step (within the drift allowed) is refused too, a later one works.
    assert (
        client.post("/sign-in/two-factor", data={"code": _code_at(DEMO_TOTP_SECRET, step - 1)}).status_code
        == 400
    )
    later = client.post("/sign-in/two-factor", data={"code": _code_at(DEMO_TOTP_SECRET, step + 1)})
    assert later.status_code == 302 and _signed_in(client)
    # Two steps ahead is beyond the drift allowed.
    auth.sign_out()
    db.session.execute(update(User).where(User.email == ADMIN).values(mfa_last_step=None))
    db.session.commit()
    _password(client, ADMIN)
    assert (
        client.post("/sign-in/two-factor", data={"code": _code_at(DEMO_TOTP_SECRET, step + 3)}).status_code
        == 400
    )


def test_wrong_codes_count_towards_the_lockout(demo: Flask, client: FlaskClient) -> None:
    _password(client, ADMIN)
    messages = [first_error(client.post("/sign-in/two-factor", data={"code": "000000"})) for _ in range(5)]
    assert messages[3].startswith("The code is not correct. You have one more attempt")
    assert messages[4].endswith("Try again in 15 minutes.")
    # Even the right code, or a new password attempt, is refused while locked.
    locked = client.post("/sign-in/two-factor", data={"code": two_factor_code(ADMIN)})
    assert locked.status_code == 400 and "locked" in first_error(locked) and not _signed_in(client)
    again = client.post("/sign-in", data={"email": ADMIN, "password": DEMO_PASSWORD})
    assert again.status_code == 400 and "locked" in first_error(again)
    assert user_row(ADMIN).locked_until is not None
    assert sign_in_history(ADMIN) == [("two_factor", "failed")] * 4 + [("two_factor", "locked")] * 2 + [
        ("password", "locked")
    ]


def test_a_recovery_code_works_once(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    admin = user_row(ADMIN)
    codes = mfa.new_recovery_codes(db.session(), admin)
    db.session.commit()
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == admin.id)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # hashed, never kept as typed

    _password(client, ADMIN)
    page = page_of(client.get("/sign-in/two-factor/recovery-code"))
    assert page.select_one("input[name=code]") is not None
    done = client.post("/sign-in/two-factor/recovery-code", data={"code": f" {codes[0].upper()} "})
    assert done.status_code == 302
    signed_in = client.get("/contracts")
    assert signed_in.status_code == 200
    assert "You used a recovery code: 9 left" in page_of(signed_in).get_text()
    assert sign_in_history(ADMIN)[-1] == ("recovery_code", "signed_in")
    auth.sign_out()

    _password(client, ADMIN)
    reused = client.post("/sign-in/two-factor/recovery-code", data={"code": codes[0]})
    assert reused.status_code == 400 and not _signed_in(client)
    assert "has been used" in first_error(reused)
    assert sign_in_history(ADMIN)[-1] == ("recovery_code", "failed")
    assert client.post("/sign-in/two-factor/recovery-code", data={"code": codes[1]}).status_code == 302
    used = db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == admin.id, RecoveryCode.used_at.is_not(None)
        )
    )
    assert used == 2


def test_the_pending_sign_in_expires_after_five_minutes(demo: Flask, client: FlaskClient) -> None:
    _password(client, ADMIN)
    with client.session_transaction() as session:
        pending = session["mfa_pending"]
        session["mfa_pending"] = {**pending, "at": pending["at"] - 5 * 60 - 1}
    expired = client.post("/sign-in/two-factor", data={"code": two_factor_code(ADMIN)})
    assert expired.status_code == 302 and expired.headers["Location"] == "/sign-in"
    assert "Sign in again" in page_of(client.get("/sign-in")).get_text()
    assert not _signed_in(client)
    # Without a password first there is nothing to verify.
    fresh = client.application.test_client()
    assert fresh.get("/sign-in/two-factor").headers["Location"] == "/sign-in"
    assert fresh.get("/sign-in/two-factor/set-up").headers["Location"] == "/sign-in"


def test_a_pending_sign_in_ends_when_the_epoch_moves(demo: Flask, client: FlaskClient) -> None:
    _password(client, ADMIN)
    db.session.execute(update(User).where(User.email == ADMIN).values(session_epoch=User.session_epoch + 1))
    db.session.commit()
    response = client.post("/sign-in/two-factor", data={"code": two_factor_code(ADMIN)})
    assert response.headers["Location"] == "/sign-in" and not _signed_in(client)


def _set_up_from_page(client: FlaskClient, url: str) -> tuple[str, object]:
    """Read the secret off the set-up page and confirm it with a code, as an app would."""
    page = page_of(client.get(url))
    svg = page.select_one("svg")
    assert svg is not None and svg["role"] == "img" and svg.find("path") is not None
    secret = page.select_one("#secret").get_text().replace(" ", "")
    assert len(secret) == 32
    wrong = client.post(url, data={"code": "123 456"})
    assert wrong.status_code == 400 and first_error(wrong).startswith("The code is not correct")
    # The same secret is offered until it is confirmed.
    assert page_of(client.get(url)).select_one("#secret").get_text().replace(" ", "") == secret
    return secret, client.post(url, data={"code": pyotp.TOTP(secret).now()})


def test_commissioners_must_set_it_up_when_required(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    email = DEMO_USERS["lbbd"]
    assert auth.sign_in(email).headers["Location"] == "/"  # not required by default
    auth.sign_out()

    demo.config["REQUIRE_MFA"] = True
    assert _password(client, email) == "/sign-in/two-factor/set-up"
    assert not _signed_in(client)
    assert client.get("/sign-in/two-factor").headers["Location"] == "/sign-in/two-factor/set-up"
    secret, confirmed = _set_up_from_page(client, "/sign-in/two-factor/set-up")
    assert confirmed.status_code == 200  # type: ignore[attr-defined]
    page = page_of(confirmed)
    codes = [item.get_text(strip=True) for item in page.select("#recovery-codes li")]
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes)
    assert page.find("a", string="I have saved my recovery codes")["href"] == "/"
    assert _signed_in(client)

    user = user_row(email)
    assert user.mfa_enabled and secret_box.decrypt(user.mfa_secret or "") == secret
    assert sign_in_history(email)[-1] == ("two_factor", "signed_in")
    auth.sign_out()
    # Next time, a code.
    assert _password(client, email) == "/sign-in/two-factor"
    code = pyotp.TOTP(secret).at((int(time.time()) // 30 + 1) * 30)
    assert client.post("/sign-in/two-factor", data={"code": code}).status_code == 302


def test_a_new_admin_must_set_it_up(demo: Flask, client: FlaskClient) -> None:
    db.session.execute(
        update(User)
        .where(User.email == ADMIN)
        .values(mfa_secret=None, mfa_enabled_at=None, mfa_last_step=None)
    )
    db.session.commit()
    assert _password(client, ADMIN) == "/sign-in/two-factor/set-up"
    # The account pages are not reachable while pending.
    assert client.get("/account/two-factor").status_code == 302


def test_others_may_turn_it_on_and_off(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    email = DEMO_USERS["refuge"]
    auth.sign_in(email)
    page = page_of(client.get("/account/two-factor"))
    assert "is off" in page.get_text()
    assert page.find("a", string="Set up two-factor authentication")["href"] == "/account/two-factor/set-up"
    secret, confirmed = _set_up_from_page(client, "/account/two-factor/set-up")
    assert confirmed.status_code == 200  # type: ignore[attr-defined]
    first_codes = [li.get_text(strip=True) for li in page_of(confirmed).select("#recovery-codes li")]
    assert len(first_codes) == 10
    assert "You have 10 unused recovery codes" in page_of(client.get("/account/two-factor")).get_text()

    # New recovery codes replace the old ones.
    regenerated = client.post("/account/two-factor/recovery-codes")
    new_codes = [li.get_text(strip=True) for li in page_of(regenerated).select("#recovery-codes li")]
    assert len(new_codes) == 10 and not set(new_codes) & set(first_codes)
    auth.sign_out()
    _password(client, email)
    assert client.post("/sign-in/two-factor/recovery-code", data={"code": first_codes[0]}).status_code == 400
    assert client.post("/sign-in/two-factor/recovery-code", data={"code": new_codes[0]}).status_code == 302

    # Turning it off needs a current code.
    assert client.post("/account/two-factor/turn-off", data={"code": "000000"}).status_code == 400
    step = max(mfa.current_step(), (user_row(email).mfa_last_step or 0) + 1)
    done = client.post("/account/two-factor/turn-off", data={"code": _code_at(secret, step)})
    assert done.headers["Location"] == "/account/two-factor"
    user = user_row(email)
    assert not user.mfa_enabled and user.mfa_secret is None
    assert db.session.scalar(select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id)) == 0
    auth.sign_out()
    assert auth.sign_in(email).headers["Location"] == "/"


@pytest.mark.parametrize("who", ["admin", "lbbd"])
def test_it_cannot_be_turned_off_when_required(
    demo: Flask, client: FlaskClient, auth: Auth, who: str
) -> None:
    demo.config["REQUIRE_MFA"] = True
    email = DEMO_USERS[who]
    if who == "lbbd":
        db.session.execute(
            update(User)
            .where(User.email == email)
            .values(mfa_secret=secret_box.encrypt(DEMO_TOTP_SECRET), mfa_enabled_at=func.now())
        )
        db.session.commit()
    assert auth.sign_in(email).headers["Location"] == "/"
    page = page_of(client.get("/account/two-factor"))
    assert "cannot be turned off" in page.get_text()
    assert page.find("a", string="Turn off two-factor authentication") is None
    assert client.get("/account/two-factor/turn-off").status_code == 403
    assert (
        client.post("/account/two-factor/turn-off", data={"code": two_factor_code(email)}).status_code == 403
    )
    assert user_row(email).mfa_enabled
