"""The admin page of a partnership's meetings: adding with the error-summary
pattern, removing with a confirmation, each change audited."""

from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.audit import AuditEvent
from monitor.auth.models import Partnership
from monitor.db import db
from monitor.reports.models import PackDelivery, PackRecipient, PartnershipMeeting
from tests.conftest import DEMO_USERS, Auth

BD_BOARD = "Barking and Dagenham Health and Wellbeing Board"


@pytest.fixture
def board(demo: Flask, auth: Auth) -> int:
    demo.config["TODAY"] = "2014-05-06"
    assert auth.sign_in(DEMO_USERS["admin"]).status_code == 302
    return int(db.session.scalar(select(Partnership.id).where(Partnership.name == BD_BOARD)) or 0)


def _meetings() -> list[date]:
    return list(
        db.session.scalars(select(PartnershipMeeting.meeting_date).order_by(PartnershipMeeting.meeting_date))
    )


def _summary(html: str) -> list[tuple[str, str]]:
    soup = BeautifulSoup(html, "html.parser")
    box = soup.select_one(".govuk-error-summary")
    assert box is not None, "no error summary"
    return [(" ".join(a.get_text().split()), str(a["href"])) for a in box.select("a")]


def test_the_page_lists_meetings_with_their_packs(client: FlaskClient, board: int) -> None:
    organisations = client.get("/admin/organisations").get_data(as_text=True)
    assert f"/admin/partnerships/{board}/meetings" in organisations
    page = client.get(f"/admin/partnerships/{board}/meetings")
    assert page.status_code == 200
    text = " ".join(BeautifulSoup(page.get_data(as_text=True), "html.parser").get_text(" ").split())
    assert "13 May 2014 Quarterly performance review Due now (Q4 2013/14): sent on the next run" in text
    assert "15 July 2014 To be sent on 8 July 2014 (Q4 2013/14)" in text


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("5", "5", "2014", "The date of the meeting must be today or in the future, 6 May 2014"),
        ("13", "5", "2014", f"{BD_BOARD} already has a meeting on 13 May 2014. Enter a different date"),
        ("31", "2", "2015", "Date of the meeting must be a real date, like 4 11 2013"),
        ("", "", "", "Enter the date of the meeting"),
    ],
)
def test_a_wrong_date_is_refused_and_nothing_saved(
    client: FlaskClient, board: int, day: str, month: str, year: str, message: str
) -> None:
    before, audited = _meetings(), db.session.scalar(select(func.count(AuditEvent.id)))
    response = client.post(
        f"/admin/partnerships/{board}/meetings",
        data={"meeting_date": [day, month, year], "title": "Extra"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert _summary(html) == [(message, "#meeting_date-day")]
    assert "<title>Error:" in html
    assert _meetings() == before
    assert db.session.scalar(select(func.count(AuditEvent.id))) == audited


def test_adding_and_removing_a_meeting_is_audited(client: FlaskClient, board: int) -> None:
    added = client.post(
        f"/admin/partnerships/{board}/meetings", data={"meeting_date": ["16", "9", "2014"], "title": "Autumn"}
    )
    assert added.status_code == 302
    meeting_id = db.session.scalar(
        select(PartnershipMeeting.id).where(PartnershipMeeting.meeting_date == date(2014, 9, 16))
    )
    created = db.session.execute(
        select(AuditEvent).where(
            AuditEvent.entity_type == "partnership meeting",
            AuditEvent.action == "create",
            AuditEvent.entity_id == meeting_id,
        )
    ).scalar_one()
    assert created.actor_id is not None
    assert created.changes["meeting_date"] == [None, "2014-09-16"]
    assert created.entity_label == f"{BD_BOARD}, 16 September 2014"

    url = f"/admin/partnerships/{board}/meetings/{meeting_id}/remove"
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Remove the meeting on 16 September 2014?" in confirm.get_data(
        as_text=True
    )
    assert client.post(url).status_code == 302
    assert date(2014, 9, 16) not in _meetings()
    removed = db.session.execute(
        select(AuditEvent).where(
            AuditEvent.entity_type == "partnership meeting", AuditEvent.action == "delete"
        )
    ).scalar_one()
    assert removed.changes["meeting_date"] == ["2014-09-16", None]


def test_a_meeting_whose_pack_has_gone_cannot_be_removed(client: FlaskClient, board: int) -> None:
    meeting_id = db.session.scalar(
        select(PartnershipMeeting.id).where(PartnershipMeeting.meeting_date == date(2014, 5, 13))
    )
    with db.transaction() as session:
        delivery = PackDelivery(meeting_id=meeting_id, period="2013-14-Q4")
        session.add(delivery)
        session.flush()
        session.add(PackRecipient(delivery_id=delivery.id, email=DEMO_USERS["bd_board"]))
    response = client.post(f"/admin/partnerships/{board}/meetings/{meeting_id}/remove")
    assert response.status_code == 409
    assert "has been sent to members" in response.get_data(as_text=True)
    assert date(2014, 5, 13) in _meetings()
    assert client.get(f"/admin/partnerships/{board}/meetings/999999/remove").status_code == 404
