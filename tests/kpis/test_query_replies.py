"""A commissioner's query answered in words: the provider replies, the return
goes back for review with the figures it had, and both sides read the thread
of queries and replies on the return."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_login import login_user
from sqlalchemy import func, select

from monitor.audit import Actor, AuditEvent, acting_as
from monitor.db import db
from monitor.errors import ValidationFailed
from monitor.formatting import date_text
from monitor.kpis.models import Return, ReturnReply, ReturnVersion
from monitor.kpis.returns.replies import reply_to_query
from monitor.kpis.returns.services import query_return
from monitor.kpis.vocabulary import EventKind, ReturnState
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.test_returns_builders import REFUGE, contract, stored, upload, user

QUERY = "Police referrals look high against the MASH log; please check."
REPLY = "The police figure includes a one-off review of 9 older MASH notifications in May."


def soup(response: object) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")  # type: ignore[attr-defined]


def errors(response: object) -> list[str]:
    return [li.get_text(" ", strip=True) for li in soup(response).select(".govuk-error-summary__list li")]


def replies() -> int:
    return db.session.scalar(select(func.count(ReturnReply.id))) or 0


@pytest.fixture
def queried(frameworks: Flask, auth: Auth, tmp_path: Path) -> str:
    """Refuge's Q1 return submitted and queried by LBBD; Refuge signed in. Its address."""
    frameworks.instance_path = str(tmp_path)
    upload("refuge")
    commissioner = user("lbbd")
    with acting_as(Actor(commissioner.id, commissioner.email)), db.transaction() as session:
        record = session.get(Return, stored().id)  # type: ignore[union-attr]
        assert record is not None
        query_return(session, commissioner, record, QUERY)
    db.session.remove()
    assert auth.sign_in(DEMO_USERS["refuge"]).status_code == 302
    return f"/contracts/{contract(REFUGE).id}/returns/2013-14-Q1"


def test_a_query_is_answered_in_words(queried: str, client: FlaskClient, frameworks: Flask) -> None:
    url = queried
    page = soup(client.get(url))
    reply_link = page.select_one(f'a.govuk-button[href="{url}/reply"]')
    assert reply_link is not None and reply_link.get_text(strip=True) == "Reply to the query"
    # One primary button: uploading a corrected workbook is secondary, behind a disclosure.
    primary = [b for b in page.select(".govuk-button") if "govuk-button--secondary" not in b["class"]]
    assert [b.get_text(strip=True) for b in primary] == ["Reply to the query"]
    assert "Upload a corrected version" in page.select_one("details summary").get_text()  # type: ignore[union-attr]

    form_page = client.get(f"{url}/reply")
    assert form_page.status_code == 200
    revision = soup(form_page).select_one('input[name="reply-revision"]')["value"]  # type: ignore[index]
    assert "never names or details of anyone who uses it" in soup(form_page).get_text(" ", strip=True)

    empty = client.post(f"{url}/reply", data={"reply-reply": "  ", "reply-revision": revision})
    assert empty.status_code == 400 and errors(empty) == ["Enter your reply to the commissioner's query"]
    too_long = client.post(f"{url}/reply", data={"reply-reply": "x" * 4001, "reply-revision": revision})
    assert too_long.status_code == 400 and errors(too_long) == ["Keep your reply to 4000 characters or fewer"]
    assert replies() == 0 and stored().state == ReturnState.QUERIED  # type: ignore[union-attr]

    sent = client.post(f"{url}/reply", data={"reply-reply": REPLY, "reply-revision": revision})
    assert sent.status_code == 302 and sent.headers["Location"] == url
    record = stored()
    assert record is not None
    # Back with the commissioner for review, with the version it had: no new upload.
    assert record.state == ReturnState.RESUBMITTED
    assert db.session.scalar(select(func.count(ReturnVersion.id))) == 1
    reply = db.session.scalars(select(ReturnReply)).one()
    query_event = next(e for e in record.events if e.kind == EventKind.QUERIED)
    assert (reply.text, reply.query_event_id, reply.by_id) == (REPLY, query_event.id, user("refuge").id)
    assert [(e.kind, e.version_number) for e in record.events][-1] == (EventKind.REPLIED, 1)
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "return reply")).one()
    assert audited.contract_id == contract(REFUGE).id and audited.changes["text"] == [None, REPLY]
    assert audited.actor_id == user("refuge").id

    # The thread, oldest first: who (name and organisation), when (UK time) and what.
    page = soup(client.get(url))
    entries = page.select("#thread li")
    assert [e.h3.get_text(strip=True) for e in entries] == [  # type: ignore[union-attr]
        "Query from the commissioner",
        "Reply from the provider",
    ]
    commissioner, provider = user("lbbd"), user("refuge")
    assert entries[0].select_one(".app-query-thread__meta").get_text(" ", strip=True) == (  # type: ignore[union-attr]
        f"{commissioner.name}, {commissioner.organisation.name}, {date_text(query_event.at)}"  # type: ignore[union-attr]
    )
    assert provider.organisation.name in entries[1].get_text()  # type: ignore[union-attr]
    assert QUERY in entries[0].get_text() and REPLY in entries[1].get_text()
    assert page.select_one(".govuk-panel__title").get_text(strip=True) == "Return submitted"  # type: ignore[union-attr]
    history = [row.select("td")[1].get_text(strip=True) for row in page.select("#history ~ table tbody tr")]
    assert history[-1] == "Replied to query (version 1)"

    # Answered: nothing is left to reply to, and a second post stores nothing.
    again = client.post(f"{url}/reply", data={"reply-reply": REPLY, "reply-revision": str(record.revision)})
    assert again.status_code == 302 and replies() == 1

    # The commissioner's review page includes the partial with only `record` in its context.
    with frameworks.test_request_context():
        login_user(commissioner)
        partial = BeautifulSoup(
            render_template_string('{% include "kpis/_query_thread.html" %}', record=stored()), "html.parser"
        )
        assert [h.get_text(strip=True) for h in partial.select("#thread h3")] == [
            "Query from the commissioner",
            "Reply from the provider",
        ]
        assert render_template_string('{% include "kpis/_query_thread.html" %}', record=None).strip() == ""


def test_replies_that_are_refused(queried: str, client: FlaskClient, auth: Auth) -> None:
    """A reply to a page out of date, from anyone but the provider, or to a return not queried."""
    url = queried
    revision = soup(client.get(f"{url}/reply")).select_one('input[name="reply-revision"]')["value"]  # type: ignore[index]
    upload("lbbd", content=b"PK\x03\x04 corrected by the commissioner")  # the return changed meanwhile
    stale = client.post(f"{url}/reply", data={"reply-reply": REPLY, "reply-revision": revision})
    # The commissioner's upload answered the query (resubmitted): nothing left to reply to.
    assert stale.status_code == 302 and replies() == 0
    record = stored()
    assert record is not None and record.state == ReturnState.RESUBMITTED
    # Queried again: a page from before the second query is refused, not applied.
    commissioner = user("lbbd")
    with acting_as(Actor(commissioner.id, commissioner.email)), db.transaction() as session:
        again = session.get(Return, record.id)
        assert again is not None
        query_return(session, commissioner, again, "And the caseload, please.")
    db.session.remove()
    conflict = client.post(f"{url}/reply", data={"reply-reply": REPLY, "reply-revision": revision})
    assert conflict.status_code == 409
    assert errors(conflict) == [
        "Another version of this return was saved at the same moment; reload the page and check it"
    ]
    assert replies() == 0

    # Only the provider replies; boards see neither the query nor the thread.
    auth.sign_out()
    auth.sign_in(DEMO_USERS["bd_board"])
    assert client.post(f"{url}/reply", data={"reply-reply": REPLY}).status_code == 403
    board_page = soup(client.get(url))
    assert board_page.select_one("#thread") is None and QUERY not in board_page.get_text()
    auth.sign_out()
    auth.sign_in(DEMO_USERS["halton_provider"])
    assert client.post(f"{url}/reply", data={"reply-reply": REPLY}).status_code == 404
    assert replies() == 0
    # The service refuses a return that is not queried, whoever calls it.
    record = stored()
    assert record is not None
    record.state = ReturnState.SUBMITTED.value
    with pytest.raises(ValidationFailed) as refused:
        reply_to_query(db.session(), user("refuge"), record, REPLY)
    assert refused.value.errors == {
        "state": "You can only reply to a return the commissioner has queried; this one is submitted"
    }
    db.session.rollback()
