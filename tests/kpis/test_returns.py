"""The return lifecycle: versions kept, states moved, refusals explained, audited."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from monitor.audit import Actor, AuditEvent, acting_as
from monitor.db import db
from monitor.errors import Forbidden, ValidationFailed
from monitor.kpis.models import Kpi, Return, ReturnValue, ReturnVersion
from monitor.kpis.returns.ingest.result import FigureIn, OutcomeIn
from monitor.kpis.returns.services import (
    CONFLICT_MESSAGE,
    ReturnConflict,
    accept_return,
    compare_versions,
    next_state,
    query_return,
    reopen_return,
    version_figures,
)
from monitor.kpis.vocabulary import ReturnState
from tests.kpis.test_returns_builders import (
    HALTON,
    Q1,
    Q3,
    REFUGE,
    checked,
    contract,
    error,
    refuge_figures,
    stored,
    upload,
    user,
    warning,
    workbook_bytes,
)


def review(action: str, who: str, text: str = "", **kwargs: object) -> Return:
    ret = stored()
    assert ret is not None
    person = user(who)
    with acting_as(Actor(person.id, person.email)), db.transaction() as session:
        ret = session.get(Return, ret.id)  # type: ignore[assignment]
        assert ret is not None
        if action == "query":
            return query_return(session, person, ret, text, **kwargs)  # type: ignore[arg-type]
        if action == "accept":
            return accept_return(session, person, ret, text, **kwargs)  # type: ignore[arg-type]
        return reopen_return(session, person, ret, text, **kwargs)  # type: ignore[arg-type]


def count_versions() -> int:
    return db.session.scalar(select(func.count(ReturnVersion.id))) or 0


def test_first_upload_creates_the_return_and_a_version(frameworks: Flask) -> None:
    content = workbook_bytes("first")
    version = upload("refuge", submit=False, content=content)
    ret = stored()
    assert ret is not None
    assert ret.state == ReturnState.DRAFT
    assert ret.due_date == date(2013, 7, 19)
    assert version.number == 1 and not version.submitted
    assert version.sha256 == hashlib.sha256(content).hexdigest()
    assert version.size_bytes == len(content) and version.content == content
    assert version.template_version == "2013.1"
    assert version.uploaded_by_id == user("refuge").id
    values = {(v.kpi.code, v.breakdown): v for v in ret.versions[0].values}
    assert values[("REF-RECEIVED", "")].value == Decimal(42)
    assert values[("REF-RECEIVED", "Police")].value == Decimal(20)
    assert values[("FEEL-SAFER", "")].numerator == Decimal(22)
    assert [c.text for c in ret.versions[0].commentary] == ["Two bed spaces closed for repairs in May."]
    assert [(e.kind, e.version_number) for e in ret.events] == [("draft saved", 1)]


def test_the_full_lifecycle(frameworks: Flask) -> None:
    upload("refuge", submit=False)
    upload("refuge", submit=True)
    assert stored().state == ReturnState.SUBMITTED  # type: ignore[union-attr]
    review("query", "lbbd", "Police referrals look low against MASH figures; please check.")
    assert stored().state == ReturnState.QUERIED  # type: ignore[union-attr]
    upload("refuge", submit=False)  # a draft while queried leaves it queried
    assert stored().state == ReturnState.QUERIED  # type: ignore[union-attr]
    upload("refuge", submit=True, figures=refuge_figures(referrals=45))
    assert stored().state == ReturnState.RESUBMITTED  # type: ignore[union-attr]
    review("accept", "ccg")  # a partner commissioner may accept
    ret = stored()
    assert ret is not None and ret.state == ReturnState.ACCEPTED
    assert [v.number for v in ret.versions] == [1, 2, 3, 4]
    assert [v.submitted for v in ret.versions] == [False, True, False, True]
    assert [(e.kind, e.version_number) for e in ret.events] == [
        ("draft saved", 1),
        ("submitted", 2),
        ("queried", 2),
        ("draft saved", 3),
        ("resubmitted", 4),
        ("accepted", 4),
    ]
    assert ret.events[2].comment.startswith("Police referrals look low")
    assert ret.events[2].by_id == user("lbbd").id


def test_an_accepted_return_cannot_be_overwritten(frameworks: Flask) -> None:
    upload("refuge")
    review("accept", "lbbd")
    before = count_versions()
    with pytest.raises(ValidationFailed) as refused:
        upload("refuge")
    assert "reopen it first" in refused.value.errors["state"]
    assert count_versions() == before


def test_reopen_needs_a_reason_and_sends_it_back_queried(frameworks: Flask) -> None:
    upload("refuge")
    review("accept", "lbbd")
    with pytest.raises(ValidationFailed) as refused:
        review("reopen", "lbbd", "   ")
    assert refused.value.errors == {"reason": "Enter the reason for reopening the return"}
    with pytest.raises(Forbidden):
        review("reopen", "refuge", "I want to change it")
    review("reopen", "lbbd", "Finance figures were restated after audit.")
    ret = stored()
    assert ret is not None and ret.state == ReturnState.QUERIED
    assert (ret.events[-1].kind, ret.events[-1].comment) == (
        "reopened",
        "Finance figures were restated after audit.",
    )
    upload("refuge")
    assert stored().state == ReturnState.RESUBMITTED  # type: ignore[union-attr]


def test_query_needs_a_comment_and_a_submitted_return(frameworks: Flask) -> None:
    upload("refuge", submit=False)
    with pytest.raises(ValidationFailed) as refused:
        review("query", "lbbd", "")
    assert set(refused.value.errors) == {"comment", "state"}
    assert "this one is draft" in refused.value.errors["state"]
    with pytest.raises(ValidationFailed) as not_submitted:
        review("accept", "lbbd")
    assert "submitted or resubmitted" in not_submitted.value.errors["state"]


@pytest.mark.parametrize("who", ["refuge", "bd_board", "admin", "halton"])
def test_only_the_contracts_commissioners_review(frameworks: Flask, who: str) -> None:
    upload("refuge")
    for action in ("query", "accept"):
        with pytest.raises(Forbidden):
            review(action, who, "A comment")
    assert stored().state == ReturnState.SUBMITTED  # type: ignore[union-attr]


@pytest.mark.parametrize("who", ["bd_board", "admin", "halton", "halton_provider", "westminster"])
def test_who_cannot_upload(frameworks: Flask, who: str) -> None:
    with pytest.raises(Forbidden):
        upload(who)
    assert stored() is None


def test_a_commissioner_may_upload_for_the_provider(frameworks: Flask) -> None:
    assert upload("lbbd").uploaded_by_id == user("lbbd").id


def test_errors_store_nothing(frameworks: Flask) -> None:
    with pytest.raises(ValidationFailed) as refused:
        upload("refuge", messages=[error(), warning()])
    assert refused.value.errors["file"].startswith("The workbook has 1 problem. Nothing was saved")
    assert stored() is None
    assert count_versions() == 0


def test_warnings_need_acknowledging(frameworks: Flask) -> None:
    with pytest.raises(ValidationFailed) as refused:
        upload("refuge", messages=[warning()])
    message = refused.value.errors["acknowledge_warnings"]
    assert message.startswith("The workbook has 1 warning: Figures, cell D7: Referrals are 60% higher")
    assert stored() is None
    version = upload("refuge", messages=[warning()], acknowledge=True)
    assert version.warnings_acknowledged
    assert not upload("refuge").warnings_acknowledged  # nothing to acknowledge


def test_submitting_waits_for_the_quarter_to_end(frameworks: Flask) -> None:
    halton = contract(HALTON)
    result = checked(halton.id, Q3, figures=[FigureIn("REF-RECEIVED", "", Decimal(12))], commentary={})
    with pytest.raises(ValidationFailed) as refused:
        upload("halton_provider", HALTON, Q3, result=result)
    assert refused.value.errors["submit"].startswith(
        "You can submit the return for Q3 2013/14 (October to December 2013) once the quarter has ended, "
        "from 1 January 2014"
    )
    assert upload("halton_provider", HALTON, Q3, result=result, submit=False).number == 1
    assert upload("halton_provider", HALTON, Q3, result=result, today=date(2014, 1, 6)).submitted


def test_only_quarters_the_contract_reports_for(frameworks: Flask) -> None:
    with pytest.raises(ValidationFailed) as before_framework:
        upload("refuge", quarter=Q1.previous())
    assert "does not report for Q4 2012/13" in before_framework.value.errors["period"]
    with pytest.raises(ValidationFailed) as future:
        upload("refuge", quarter=Q3.next(), submit=False)
    assert future.value.errors["period"] == "Q4 2013/14 (January to March 2014) has not begun yet"


def test_outcome_kpis_are_worked_out_unless_supplied(frameworks: Flask) -> None:
    halton = contract(HALTON)
    # Three of four children's SDQ totals fell by 5 or more (the reliable change).
    outcomes = [
        OutcomeIn("SDQ", "parent", Decimal(pre), Decimal(post))
        for pre, post in ((20, 12), (18, 13), (22, 16), (15, 14))
    ]
    result = checked(
        halton.id, Q3, figures=[FigureIn("REF-RECEIVED", "", Decimal(12))], commentary={}, outcomes=outcomes
    )
    version = upload("halton_provider", HALTON, Q3, result=result, submit=False)
    values = {v.kpi.code: v for v in db.session.get(ReturnVersion, version.id).values}  # type: ignore[union-attr]
    assert values["SDQ-IMPROVED"].value == Decimal("75.0")
    assert "WEMWBS-IMPROVED" not in values  # no WEMWBS scores
    assert len(db.session.get(ReturnVersion, version.id).outcome_scores) == 4  # type: ignore[union-attr]
    supplied = checked(
        halton.id,
        Q3,
        figures=[FigureIn("SDQ-IMPROVED", "", Decimal(50))],
        commentary={},
        outcomes=outcomes,
    )
    again = upload("halton_provider", HALTON, Q3, result=supplied, submit=False)
    kept = db.session.scalars(select(ReturnValue).where(ReturnValue.version_id == again.id)).all()
    assert [(v.kpi.code, v.value) for v in kept] == [("SDQ-IMPROVED", Decimal(50))]


def test_compare_versions(frameworks: Flask) -> None:
    upload("refuge", submit=False)
    figures = [f for f in refuge_figures(referrals=50) if f.kpi_code != "MARAC-REPEAT"]
    figures.append(FigureIn("REF-RECEIVED", "MASH", Decimal(3)))
    upload("refuge", figures=figures)
    ret = stored()
    assert ret is not None
    rows = compare_versions(ret.versions[0], ret.versions[1])
    by_key = {(r.kpi_code, r.breakdown): r for r in rows}
    assert (by_key[("REF-RECEIVED", "")].old, by_key[("REF-RECEIVED", "")].new) == (Decimal(42), Decimal(50))
    assert by_key[("REF-RECEIVED", "")].change == Decimal(8)
    assert by_key[("REF-RECEIVED", "MASH")].old is None and by_key[("REF-RECEIVED", "MASH")].change is None
    assert by_key[("MARAC-REPEAT", "")].new is None
    assert not by_key[("CASELOAD", "")].changed
    # KPI by KPI, the total first and then breakdowns in the KPI's own order.
    referrals = [r.breakdown for r in rows if r.kpi_code == "REF-RECEIVED"]
    assert referrals == ["", "Police", "MASH", "Self-referral"]


def test_version_figures_carry_targets_and_rag(frameworks: Flask) -> None:
    version = upload("refuge")
    ret = stored()
    assert ret is not None
    rows = version_figures(db.session(), ret.contract, Q1, ret.versions[-1])
    by_code = {row.kpi.code: row for row in rows}
    assert by_code["REF-RECEIVED"].target == Decimal(40)
    assert str(by_code["REF-RECEIVED"].rag) == "green"
    assert str(by_code["CASELOAD"].rag) == "amber"  # 18 against 20, within 10%
    assert [b.breakdown for b in by_code["REF-RECEIVED"].breakdowns] == ["Police", "Self-referral"]
    assert by_code["CASELOAD"].commentary.startswith("Two bed spaces")
    assert version.number == 1


def test_next_state_rules() -> None:
    assert next_state(None, submit=False) == ReturnState.DRAFT
    assert next_state(ReturnState.DRAFT, submit=True) == ReturnState.SUBMITTED
    assert next_state(ReturnState.SUBMITTED, submit=True) == ReturnState.SUBMITTED
    assert next_state(ReturnState.SUBMITTED, submit=False) == ReturnState.SUBMITTED
    assert next_state(ReturnState.QUERIED, submit=True) == ReturnState.RESUBMITTED
    with pytest.raises(ValueError, match="accepted"):
        next_state(ReturnState.ACCEPTED, submit=True)


def test_a_stale_page_cannot_accept_a_newer_version(frameworks: Flask) -> None:
    upload("refuge")
    seen = stored().revision  # type: ignore[union-attr]
    upload("refuge")  # the provider corrects it while the commissioner reads
    with pytest.raises(ReturnConflict) as conflict:
        review("accept", "lbbd", seen_revision=seen)
    assert conflict.value.errors == {"return": CONFLICT_MESSAGE}
    review("accept", "lbbd", seen_revision=stored().revision)  # type: ignore[union-attr]


def test_everything_is_audited_under_the_contract(frameworks: Flask) -> None:
    upload("refuge")
    review("query", "lbbd", "Please check the caseload.")
    refuge_id = contract(REFUGE).id
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type.like("return%"))).all()
    kinds = [(e.entity_type, e.action) for e in events]
    assert ("return", "create") in kinds and ("return", "update") in kinds
    assert ("return version", "create") in kinds
    assert kinds.count(("return event", "create")) == 2
    assert {e.contract_id for e in events} == {refuge_id}
    version_event = next(e for e in events if e.entity_type == "return version")
    assert version_event.changes["sha256"][1] == stored().versions[0].sha256  # type: ignore[union-attr]
    assert version_event.actor_label == "provider@refuge.demo.example"
    query_event = next(e for e in events if e.entity_type == "return event" and e.actor_id == user("lbbd").id)
    assert query_event.changes["comment"][1] == "Please check the caseload."


def test_unknown_kpi_codes_are_refused(frameworks: Flask) -> None:
    with pytest.raises(ValidationFailed) as refused:
        upload("refuge", figures=[FigureIn("NOT-A-KPI", "", Decimal(1))])
    assert "NOT-A-KPI" in refused.value.errors["file"]
    assert db.session.scalar(select(func.count(Kpi.id))) > 0
    assert stored() is None
