"""A framework change that makes a submitted return incomplete (issue 11): the
return is marked "needs resubmission", the provider is told by email once the
change is committed, the change is audited, and the mark holds acceptance off
until the provider submits again."""

from __future__ import annotations

from decimal import Decimal
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.audit import Actor, AuditEvent, acting_as
from monitor.db import db
from monitor.errors import ValidationFailed
from monitor.kpis.framework.services import ItemFields, ItemTerms, add_item
from monitor.kpis.models import Kpi
from monitor.kpis.returns.ingest.result import FigureIn
from monitor.kpis.returns.services import accept_return
from tests.api.conftest import (
    Headers,
    headers,  # noqa: F401 - fixture used below
)
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.test_returns_builders import REFUGE, contract, refuge_figures, stored, upload, user

NEW_KPI = "MARAC-REFERRALS"


@pytest.fixture
def outbox(frameworks: Flask, tmp_path: Path) -> Path:
    frameworks.config["OUTBOX_DIR"] = str(tmp_path / "outbox")
    frameworks.config["SMTP_HOST"] = ""
    return tmp_path / "outbox"


def mails(outbox: Path) -> list[Message]:
    if not outbox.exists():
        return []
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]


def new_kpi() -> Kpi:
    in_force = {"REF-RECEIVED", "CASELOAD", "FEEL-SAFER", "ABUSE-STOPPED", "MARAC-REPEAT"}
    kpis = db.session.scalars(select(Kpi).where(Kpi.active.is_(True)).order_by(Kpi.code))
    return next(k for k in kpis if k.code not in in_force and not k.breakdowns and not k.has_fraction)


def add(kpi: Kpi, effective_from: str, *, fail_after: bool = False) -> None:
    person = user("lbbd")
    with acting_as(Actor(person.id, person.email)), db.transaction() as session:
        add_item(
            session,
            person,
            contract(REFUGE),
            ItemFields(kpi.id, ItemTerms(Decimal(5)), effective_from),
        )
        if fail_after:
            raise RuntimeError("something later in the same transaction failed")


def test_a_kpi_added_to_a_submitted_quarter_marks_the_return(frameworks: Flask, outbox: Path) -> None:
    upload("refuge")  # Q1 submitted, under review
    kpi = new_kpi()
    add(kpi, "2013-14-Q1")

    record = stored()
    assert record is not None and record.needs_resubmission
    assert record.state == "submitted"
    assert f"{kpi.name} ({kpi.code})" in record.resubmission_reason
    assert record.events[-1].kind == "needs resubmission"
    assert record.events[-1].comment == record.resubmission_reason
    audited = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "return", AuditEvent.entity_id == record.id)
    ).all()
    assert any("needs_resubmission" in (event.changes or {}) for event in audited)

    (mail,) = [m for m in mails(outbox) if m["To"] == DEMO_USERS["refuge"]]
    assert mail["Subject"] == "Return needs resubmission: LBBD-DV-002 Q1 2013/14 (April to June 2013)"
    assert kpi.code in mail.get_content()

    with (
        acting_as(Actor(None, "test")),
        db.transaction() as session,
        pytest.raises(ValidationFailed) as refused,
    ):
        accept_return(session, user("lbbd"), session.get(type(record), record.id))  # type: ignore[arg-type]
    assert refused.value.errors["state"].startswith("This return needs resubmission")

    figures = [*refuge_figures(), FigureIn(kpi.code, "", Decimal(3))]
    upload("refuge", figures=figures, content=b"PK\x03\x04 the corrected return")
    again = stored()
    assert again is not None and not again.needs_resubmission and again.resubmission_reason == ""


def test_the_api_and_the_page_say_so(
    frameworks: Flask,
    outbox: Path,
    client: FlaskClient,
    auth: Auth,
    tmp_path: Path,
    headers: Headers,  # noqa: F811 - the imported fixture
) -> None:
    frameworks.instance_path = str(tmp_path)
    upload("refuge")
    add(new_kpi(), "2013-14-Q1")
    api = frameworks.test_client()
    body = api.get(
        f"/api/v1/contracts/{contract(REFUGE).id}/returns/2013-14-Q1", headers=headers("refuge")
    ).get_json()
    assert body["needs_resubmission"] is True and body["resubmission_reason"].startswith(
        "The performance framework now asks for"
    )
    auth.sign_in(DEMO_USERS["refuge"])
    page = client.get(f"/contracts/{contract(REFUGE).id}/returns/2013-14-Q1").get_data(as_text=True)
    assert "This return needs resubmission" in page and body["resubmission_reason"] in page


def test_returns_the_change_does_not_touch_are_left_alone(frameworks: Flask, outbox: Path) -> None:
    upload("refuge")  # Q1 submitted
    add(new_kpi(), "2013-14-Q2")  # required from Q2 only
    record = stored()
    assert record is not None and not record.needs_resubmission
    assert [e.kind for e in record.events] == ["submitted"]
    assert mails(outbox) == []


def test_a_draft_is_not_marked(frameworks: Flask, outbox: Path) -> None:
    upload("refuge", submit=False)
    add(new_kpi(), "2013-14-Q1")
    record = stored()
    assert record is not None and not record.needs_resubmission and mails(outbox) == []


def test_a_change_rolled_back_tells_nobody(frameworks: Flask, outbox: Path) -> None:
    upload("refuge")
    with pytest.raises(RuntimeError):
        add(new_kpi(), "2013-14-Q1", fail_after=True)
    record = stored()
    assert record is not None and not record.needs_resubmission
    assert mails(outbox) == []
