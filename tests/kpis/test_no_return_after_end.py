"""A contract that ended expects no return after its last quarter (issue 11),
even when a draft was stored for a later quarter before its end was brought
forward: the draft is kept, but no page, upload or API call offers it.
DV-001 ended on 31 January 2014, so April to June 2014 is after its end."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from monitor.db import db
from monitor.errors import ValidationFailed
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.calendar import CalendarRules, expected_return
from monitor.kpis.returns.commands import Refused, SubmitReturn, Upload
from tests.api.conftest import (
    Headers,
    headers,  # noqa: F401 - fixture used below
)
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.conftest import add_framework
from tests.kpis.test_part_quarters import AFTER, DV001, DV001_FRAMEWORK, add_stale_draft
from tests.kpis.test_returns_builders import checked, contract, stored, upload, user, workbook_bytes

LAST = Quarter(2013, 4)  # January to March 2014: DV-001 ran 1 to 31 January
AS_AT = date(2014, 8, 1)
REFUSAL = f"{DV001} does not report for {AFTER.label}: it was not running then"


@pytest.fixture
def stale_draft(library: Flask) -> Flask:
    """DV-001's framework from Q1 2013/14 (no end) and a draft for April to
    June 2014 left from before the contract's end was known."""
    add_framework(DV001, DV001_FRAMEWORK, "2013-14-Q1")
    add_stale_draft()
    library.config["TODAY"] = AS_AT.isoformat()
    return library


def test_the_draft_is_not_the_return_for_its_quarter(stale_draft: Flask) -> None:
    dv001 = contract(DV001)
    assert expected_return(db.session(), dv001, AFTER, AS_AT, CalendarRules()) is None
    last = expected_return(db.session(), dv001, LAST, AS_AT, CalendarRules())
    assert last is not None and last.record is None  # the last quarter is still owed
    assert stored(DV001, AFTER) is not None  # kept, not deleted


def test_uploads_refuse_the_quarter(stale_draft: Flask) -> None:
    with pytest.raises(ValidationFailed) as refused:
        upload("lbbd", DV001, AFTER, today=AS_AT, result=checked(contract(DV001).id, AFTER))
    assert refused.value.errors["period"].startswith(REFUSAL)

    command = SubmitReturn(
        user("lbbd"), contract(DV001), AFTER, Upload("r.xlsx", workbook_bytes()), True, False, today=AS_AT
    ).validate()
    assert isinstance(command, Refused)
    assert any(m.message.startswith(REFUSAL) and command.field_of(m) == "period" for m in command.messages)

    draft = stored(DV001, AFTER)
    assert draft is not None and draft.state == "draft" and draft.versions == []


def test_the_page_and_the_api_do_not_offer_it(
    stale_draft: Flask,
    client: FlaskClient,
    auth: Auth,
    headers: Headers,  # noqa: F811 - the imported fixture
) -> None:
    dv001 = contract(DV001).id
    auth.sign_in(DEMO_USERS["lbbd"])
    assert client.get(f"/contracts/{dv001}/returns/{AFTER}").status_code == 404
    assert client.get(f"/contracts/{dv001}/returns/{LAST}").status_code == 200
    api = stale_draft.test_client()
    assert api.get(f"/api/v1/contracts/{dv001}/returns/{AFTER}", headers=headers("lbbd")).status_code == 404
