"""A register that stays true (issue 11, item 5): options lapse, totals follow the
terms in force, amendments are dated and reasoned, and corrections keep the original."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.audit import AuditEvent
from monitor.auth.models import User
from monitor.clock import today
from monitor.contracts import services
from monitor.contracts.models import Amendment, Contract
from monitor.contracts.renewal import Terms, assess, options_lapsed
from monitor.contracts.value import TermChange, months_between, value_in_force
from monitor.db import db
from monitor.errors import ValidationFailed
from tests.conftest import DEMO_USERS, Auth

# The demo as at 6 May 2014: DV-004 and DV-007 ended on 31 March 2014 with an option unused.
AFTER_THE_END = "2014-05-06"


def _user(key: str) -> User:
    return db.session.execute(select(User).where(User.email == DEMO_USERS[key])).scalar_one()


def _contract(reference: str) -> Contract:
    return db.session.execute(select(Contract).where(Contract.reference == reference)).scalar_one()


def _page(client: FlaskClient, url: str) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def _summary(response_text: str) -> dict[str, str]:
    page = BeautifulSoup(response_text, "html.parser")
    return {a["href"]: a.get_text(strip=True) for a in page.select(".govuk-error-summary a")}


def _row_value(page: BeautifulSoup, key: str) -> str:
    for row in page.select(".govuk-summary-list__row"):
        if row.select_one(".govuk-summary-list__key").get_text(strip=True) == key:
            return row.select_one(".govuk-summary-list__value").get_text(strip=True)
    raise AssertionError(f"no summary row {key!r}")


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Amendment.id))) or 0,
        db.session.scalar(select(func.count(AuditEvent.id))) or 0,
    )


# -- options lapse ---------------------------------------------------------------------------


def test_options_lapse_when_the_contract_ends() -> None:
    terms = Terms(
        start_date=date(2012, 4, 1),
        end_date=date(2014, 3, 31),
        original_end_date=date(2014, 3, 31),
        notice_months=3,
        remaining_option_months=(12,),
    )
    assert not options_lapsed(terms, date(2014, 3, 31))
    assert options_lapsed(terms, date(2014, 4, 1))
    assert assess(terms, date(2014, 3, 31)).maximum_extent_date == date(2015, 3, 31)
    # After the end the option can no longer be taken, so the maximum extent is the end.
    assert assess(terms, date(2014, 5, 6)).maximum_extent_date == date(2014, 3, 31)


@pytest.mark.parametrize("reference", ["LBBD-DV-004", "LBBD-DV-007"])
def test_ended_contract_offers_no_option(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int], reference: str
) -> None:
    demo.config["TODAY"] = AFTER_THE_END
    auth.sign_in(DEMO_USERS["lbbd"])
    cid = contract_id(reference)
    page = _page(client, f"/contracts/{cid}")
    states = [
        row.select("td")[2].get_text(strip=True)
        for row in page.find(id="options").find_next("table").select("tbody tr")
    ]
    assert states == ["Lapsed"]
    assert not page.select("a[href$='/decline']")
    assert not page.find("a", string="Exercise an extension")
    assert _row_value(page, "Maximum extent") == "31 March 2014"
    form = _page(client, f"/contracts/{cid}/extend")
    assert form.select_one("form[method=post] #option_id") is None
    assert "lapsed" in form.select_one("#option_id").get_text()

    option = db.session.get_one(Contract, cid).options[0]
    before = _counts()
    declined = client.post(f"/contracts/{cid}/options/{option.id}/decline")
    assert declined.status_code == 302
    db.session.remove()
    assert _counts() == before
    assert db.session.get_one(Contract, cid).options[0].state == "available"


def test_an_extension_decided_after_the_end_is_refused(demo: Flask) -> None:
    demo.config["TODAY"] = AFTER_THE_END
    contract = _contract("LBBD-DV-004")
    fields = services.AmendmentFields(
        kind="extension",
        effective_date=date(2014, 4, 15),
        rationale="Counselling continues while IAPT options are reviewed",
        approved_by="Health and Wellbeing Board",
    )
    with pytest.raises(ValidationFailed) as failed, db.transaction() as session:
        services.exercise_extension(session, _user("lbbd"), contract, None, fields)
    assert "lapsed" in failed.value.errors["option_id"]
    assert "31 March 2014" in failed.value.errors["effective_date"]


def test_api_shows_the_option_lapsed(
    demo: Flask, client: FlaskClient, contract_id: Callable[[str], int]
) -> None:
    from tests.api.conftest import token_for

    demo.config["TODAY"] = AFTER_THE_END
    headers = {"Authorization": f"Bearer {token_for(DEMO_USERS['lbbd'])}"}
    detail = client.get(f"/api/v1/contracts/{contract_id('LBBD-DV-004')}", headers=headers).get_json()
    assert [o["state"] for o in detail["extension_options"]] == ["lapsed"]
    assert detail["key_dates"]["maximum_extent_date"] == "2014-03-31"


# -- values --------------------------------------------------------------------------------


def test_months_between_end_dates() -> None:
    assert months_between(date(2014, 3, 31), date(2014, 9, 30)) == 6
    assert months_between(date(2013, 3, 31), date(2015, 3, 31)) == 24
    assert months_between(date(2014, 1, 31), date(2014, 2, 28)) == 1
    assert months_between(date(2014, 3, 31), date(2014, 4, 15)) == Decimal(15) / Decimal(30)
    assert months_between(date(2014, 3, 31), date(2014, 3, 1)) == 0


def test_value_in_force_rule() -> None:
    extension = TermChange("extension", date(2014, 3, 31), date(2014, 9, 30))
    assert value_in_force(Decimal(810_000), Decimal(270_000), [extension]) == Decimal("945000.00")
    ending = TermChange("ending", date(2015, 3, 31), date(2013, 3, 31))
    assert value_in_force(Decimal(272_000), Decimal(34_000), [ending]) == Decimal("204000.00")
    change = TermChange("value change", new_value=Decimal(900_000))
    assert value_in_force(Decimal(810_000), Decimal(270_000), [change, extension]) == Decimal("1035000.00")
    assert value_in_force(Decimal(810_000), Decimal(270_000), []) == Decimal("810000.00")


def test_totals_are_the_terms_in_force(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    refuge = _contract("LBBD-DV-002")  # three years at £270,000, extended six months
    assert refuge.total_value == Decimal("945000.00")
    assert refuge.initial_value == Decimal("810000.00")
    perpetrators = _contract("LBBD-DV-003")  # eight years at £34,000, decommissioned after six
    assert perpetrators.total_value == Decimal("204000.00")

    auth.sign_in(DEMO_USERS["lbbd"])
    page = _page(client, f"/contracts/{contract_id('LBBD-DV-002')}")
    assert _row_value(page, "Total value of terms in force") == "£945,000"
    assert _row_value(page, "Value of the initial term") == "£810,000"
    labels = [th.get_text(strip=True) for th in page.select("#funding ~ table tfoot th")]
    assert labels == ["Funding recorded, all years"]
    assert "Total value" not in [row.get_text(strip=True) for row in page.select(".govuk-summary-list__key")]


def test_value_change_then_ending_recomputes_the_total(demo: Flask) -> None:
    user = _user("lbbd")
    contract = _contract("LBBD-DV-006")  # 2 years at £100,000 to 31 March 2015
    reason = "Second MASH advocate agreed by the board"
    with db.transaction() as session:
        services.record_amendment(
            session,
            user,
            contract,
            services.AmendmentFields(
                kind="value change",
                effective_date=date(2013, 12, 1),
                rationale=reason,
                approved_by="Director of Children's Services",
                new_value=Decimal(230_000),
            ),
        )
    assert _contract("LBBD-DV-006").total_value == Decimal("230000.00")
    with db.transaction() as session:
        services.record_amendment(
            session,
            user,
            _contract("LBBD-DV-006"),
            services.AmendmentFields(
                kind="termination",
                effective_date=date(2014, 9, 30),
                rationale="Service to be brought in house",
                approved_by="LBBD Cabinet",
                planned=True,
            ),
        )
    # Six months of £100,000 a year no longer in force.
    assert _contract("LBBD-DV-006").total_value == Decimal("180000.00")


# -- amendment validation ------------------------------------------------------------------


def test_extension_form_shows_every_error_at_once(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    cid = contract_id("LBBD-DV-004")
    before = _counts()
    response = client.post(
        f"/contracts/{cid}/extend",
        data={
            "option_id": str(db.session.get_one(Contract, cid).options[0].id),
            "effective_date": ["1", "1", "2030"],
            "rationale": "x",
            "approved_by": "x",
        },
    )
    assert response.status_code == 400
    summary = _summary(response.get_data(as_text=True))
    assert set(summary) == {"#effective_date-day", "#rationale", "#approved_by"}
    assert "within the contract's life" in summary["#effective_date-day"]
    assert "at least two words and 8 characters" in summary["#rationale"]
    assert "Health and Wellbeing Board" in summary["#approved_by"]
    db.session.remove()
    assert _counts() == before
    assert _contract("LBBD-DV-004").end_date == date(2014, 3, 31)


def test_a_malformed_date_does_not_hide_the_other_errors(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    response = client.post(
        f"/contracts/{contract_id('LBBD-DV-005')}/amendments/new",
        data={
            "kind": "variation",
            "effective_date": ["31", "2", "2013"],
            "rationale": "",
            "approved_by": "x",
        },
    )
    assert response.status_code == 400
    summary = _summary(response.get_data(as_text=True))
    assert set(summary) == {"#effective_date-day", "#rationale", "#approved_by"}
    assert "real date" in summary["#effective_date-day"]


def test_future_dates_only_when_planned(demo: Flask) -> None:
    user = _user("lbbd")
    fields = services.AmendmentFields(
        kind="variation",
        effective_date=date(2014, 1, 6),  # after today, 2 December 2013
        rationale="Opening hours extended to Saturdays",
        approved_by="Community Safety Partnership",
    )
    with pytest.raises(ValidationFailed) as failed, db.transaction() as session:
        services.record_amendment(session, user, _contract("LBBD-DV-005"), fields)
    assert "cannot be after today (2 December 2013)" in failed.value.errors["effective_date"]
    assert "planned" in failed.value.errors["effective_date"]
    fields.planned = True
    with db.transaction() as session:
        recorded = services.record_amendment(session, user, _contract("LBBD-DV-005"), fields)
    assert recorded.planned
    fields.effective_date = date(2013, 11, 1)
    with pytest.raises(ValidationFailed) as failed, db.transaction() as session:
        services.record_amendment(session, user, _contract("LBBD-DV-005"), fields)
    assert "untick planned" in failed.value.errors["effective_date"]


def test_dates_before_the_contract_are_refused(demo: Flask) -> None:
    fields = services.AmendmentFields(
        kind="variation",
        effective_date=date(2012, 1, 1),
        rationale="Opening hours extended to Saturdays",
        approved_by="Community Safety Partnership",
    )
    with pytest.raises(ValidationFailed) as failed, db.transaction() as session:
        services.record_amendment(session, _user("lbbd"), _contract("LBBD-DV-005"), fields)
    assert failed.value.errors["effective_date"] == (
        "The date of the amendment must be within the contract's life: from 1 March 2013 "
        "(when it was awarded) to 31 March 2016 (when it ends)"
    )


# -- corrections ---------------------------------------------------------------------------


def test_a_correction_keeps_the_original(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    cid = contract_id("LBBD-DV-002")
    [extension] = db.session.get_one(Contract, cid).amendments
    original = (extension.id, extension.rationale, extension.board_minute_reference)
    url = f"/contracts/{cid}/amendments/{extension.id}/correct"
    form = _page(client, url)
    assert form.select_one("#approved_by")["value"] == "Barking and Dagenham Health and Wellbeing Board"

    refused = client.post(url, data={"rationale": "x", "approved_by": "x"})
    assert refused.status_code == 400
    assert set(_summary(refused.get_data(as_text=True))) == {"#rationale", "#approved_by"}

    response = client.post(
        url,
        data={
            "rationale": extension.rationale,
            "approved_by": "Barking and Dagenham Health and Wellbeing Board",
            "board_minute_reference": "HWB 2013/09 item 8",
        },
    )
    assert response.status_code == 302
    db.session.remove()
    contract = db.session.get_one(Contract, cid)
    first, correction = contract.amendments
    assert (first.id, first.rationale, first.board_minute_reference) == original
    assert correction.kind == "correction" and correction.corrects_id == first.id
    assert correction.board_minute_reference == "HWB 2013/09 item 8"
    assert contract.end_date == date(2014, 9, 30)  # what the extension did stands
    assert contract.total_value == Decimal("945000.00")

    page = _page(client, f"/contracts/{cid}")
    rows = [
        r.get_text(" ", strip=True) for r in page.find(id="amendments").find_next("table").select("tbody tr")
    ]
    assert "HWB 2013/09 item 7" in rows[0] and "Extension" in rows[0]
    assert "Correction to the extension above" in rows[1] and "HWB 2013/09 item 8" in rows[1]
    history = _page(client, f"/contracts/{cid}/history").get_text(" ", strip=True)
    assert "Added the correction amendment" in history


def test_open_data_shows_the_amendment_and_its_correction(demo: Flask) -> None:
    from monitor.opendata.facts import facts_of
    from monitor.opendata.ocds import releases
    from monitor.opendata.settings import publishing_from

    user = _user("lbbd")
    contract = _contract("LBBD-DV-002")
    [extension] = contract.amendments
    with db.transaction() as session:
        services.correct_amendment(
            session, user, contract, extension, board_minute_reference="HWB 2013/09 item 8"
        )
    contract = _contract("LBBD-DV-002")
    published = releases(facts_of(contract), publishing_from(demo.config, "http://localhost"), today())
    amendments = published[-1]["contracts"][0]["amendments"]
    assert [a["id"] for a in amendments] == [str(a.id) for a in contract.amendments]
    assert amendments[0]["rationale"] == extension.rationale
    assert f"amendment {extension.id}" in amendments[1]["description"]
    assert published[-1]["contracts"][0]["value"]["amount"] == 945000.0


def test_a_correction_must_change_something_and_cannot_be_corrected(demo: Flask) -> None:
    user = _user("lbbd")
    contract = _contract("LBBD-DV-002")
    [extension] = contract.amendments
    with pytest.raises(ValidationFailed) as failed, db.transaction() as session:
        services.correct_amendment(session, user, contract, extension)
    assert "same as the record" in failed.value.errors["rationale"]
    with db.transaction() as session:
        correction = services.correct_amendment(
            session, user, contract, extension, approved_by="LBBD Cabinet"
        )
    with pytest.raises(ValidationFailed) as failed, db.transaction() as session:
        services.correct_amendment(session, user, _contract("LBBD-DV-002"), correction, approved_by="HWB")
    assert "original amendment" in failed.value.errors["amendment_id"]


def test_funding_summary_labels_its_totals_as_funding(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    page = _page(client, "/funding")
    headers = [th.get_text(strip=True) for th in page.select("#by-funder thead th, #by-funder tfoot th")]
    assert "Funding recorded, all years shown" in headers and "Funding recorded" in headers
    assert "Total" not in headers


def test_upgrading_works_out_the_totals_of_terms_in_force(demo: Flask) -> None:
    """An installed register moves to 0005 with each total recomputed, and back."""
    from alembic import command
    from sqlalchemy import text

    from monitor.cli import alembic_config

    db.session.remove()
    command.downgrade(alembic_config(), "0004")
    with db.engine.connect() as connection:
        before = dict(connection.execute(text("SELECT reference, total_value FROM contracts")).all())
    assert Decimal(before["LBBD-DV-002"]) == Decimal(810_000)
    command.upgrade(alembic_config(), "head")
    assert _contract("LBBD-DV-002").total_value == Decimal("945000.00")
    assert _contract("LBBD-DV-002").initial_value == Decimal("810000.00")
    assert _contract("LBBD-DV-003").total_value == Decimal("204000.00")
    assert _contract("LBBD-DV-001").total_value == Decimal("750000.00")


def test_a_planned_ending_through_the_form(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    cid = contract_id("LBBD-DV-006")
    form = _page(client, f"/contracts/{cid}/amendments/new")
    assert form.select_one("input[type=checkbox][name=planned]") is not None
    data = {
        "kind": "termination",
        "effective_date": ["30", "9", "2014"],
        "rationale": "Service to be brought in house",
        "approved_by": "LBBD Cabinet",
    }
    unplanned = client.post(f"/contracts/{cid}/amendments/new", data=data)
    assert unplanned.status_code == 400
    assert "record it as planned" in _summary(unplanned.get_data(as_text=True))["#effective_date-day"]
    planned = client.post(f"/contracts/{cid}/amendments/new", data={**data, "planned": "y"})
    assert planned.headers["Location"] == f"/contracts/{cid}/amendments/check"  # an ending is checked first
    assert client.post(f"/contracts/{cid}/amendments/check").status_code == 302
    page = _page(client, f"/contracts/{cid}")
    rows = [
        r.get_text(" ", strip=True) for r in page.find(id="amendments").find_next("table").select("tbody tr")
    ]
    assert any("Termination (planned)" in row for row in rows)
