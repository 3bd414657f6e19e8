"""The life of a quarterly return: upload, submit, query, accept and reopen.

Each service checks everything first, raises one ValidationFailed carrying
every message, and otherwise does its work in the caller's transaction.
Versions are never overwritten: every upload adds one. Two writes to the same
return at once cannot both win: every write bumps `Return.revision` (SQLAlchemy
checks it on UPDATE) and version numbers are unique per return, so the loser
gets a plain message instead of an error page.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from monitor.access.rules import can_review, can_upload
from monitor.auth.models import User
from monitor.clock import today as clock_today
from monitor.contracts.models import Contract
from monitor.errors import Forbidden, ValidationFailed
from monitor.formatting import count_text, day_text
from monitor.kpis.framework.history import items_in_force
from monitor.kpis.models import (
    FrameworkItem,
    Kpi,
    OutcomeScore,
    Return,
    ReturnCommentary,
    ReturnEvent,
    ReturnValue,
    ReturnVersion,
)
from monitor.kpis.performance import outcomes
from monitor.kpis.performance import rag as rag_rules
from monitor.kpis.performance.item_targets import item_target
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.calendar import CalendarRules, ExpectedReturn, expected_return
from monitor.kpis.returns.ingest.result import CheckedReturn, Message
from monitor.kpis.vocabulary import EventKind, ReturnState
from monitor.model_helpers import utcnow

CONFLICT_MESSAGE = "Another version of this return was saved at the same moment; reload the page and check it"
MAX_COMMENT_LENGTH = 4000
WARNINGS_LISTED = 10


class ReturnConflict(ValidationFailed):
    """Someone else changed the return in the same moment; nothing was saved."""

    def __init__(self) -> None:
        super().__init__({"return": CONFLICT_MESSAGE})


# Helpers ----------------------------------------------------------------------


def _settings(settings: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if settings is not None:
        return settings
    return current_app.config if has_app_context() else {}


def _flush(session: Session) -> None:
    """Flush, turning a lost race with another writer into a plain message."""
    try:
        session.flush()
    except (StaleDataError, IntegrityError) as error:
        raise ReturnConflict() from error
    except OperationalError as error:
        # SQLite reports a writer that waited too long as a locked database.
        if "locked" in str(error).lower():
            raise ReturnConflict() from error
        raise


def _link_to_contract(record: Any, contract_id: int) -> None:
    # The audit trail files a change under a contract by the record's
    # `contract_id`; versions and events only know their return, so say it here.
    record.contract_id = contract_id


def add_event(
    session: Session, user: User | None, ret: Return, kind: str, comment: str = "", version: int | None = None
) -> ReturnEvent:
    by_id = user.id if user is not None else None
    event = ReturnEvent(return_id=ret.id, kind=kind, comment=comment, version_number=version, by_id=by_id)
    _link_to_contract(event, ret.contract_id)
    ret.events.append(event)
    return event


def touch(ret: Return) -> None:
    """Make this write update the return row, so its revision is checked."""
    ret.updated_at = utcnow()


def latest_submitted(ret: Return) -> ReturnVersion | None:
    submitted = [v for v in ret.versions if v.submitted]
    return submitted[-1] if submitted else None


def next_state(current: ReturnState | None, *, submit: bool) -> ReturnState:
    """Where an upload moves a return. A draft saved over a submitted return
    leaves it where it was: the submitted version is still the one under review."""
    if current is None or current in (ReturnState.NOT_STARTED, ReturnState.DRAFT):
        return ReturnState.SUBMITTED if submit else ReturnState.DRAFT
    if not submit:
        return current
    if current in (ReturnState.QUERIED, ReturnState.RESUBMITTED):
        return ReturnState.RESUBMITTED
    if current == ReturnState.SUBMITTED:
        return ReturnState.SUBMITTED
    raise ValueError(f"an upload cannot change a return that is {current}")


def _describe(message: Message) -> str:
    place = ", ".join(part for part in (message.sheet, message.cell and f"cell {message.cell}") if part)
    return f"{place}: {message.message}" if place else message.message


def warnings_summary(warnings: list[Message]) -> str:
    listed = "; ".join(_describe(m) for m in warnings[:WARNINGS_LISTED])
    more = len(warnings) - WARNINGS_LISTED
    if more > 0:
        listed += f"; and {more} more"
    count = count_text(len(warnings), "warning")
    return (
        f"The workbook has {count}: {listed}. Check them, then confirm you have read them "
        "and want to save the return anyway"
    )


# Upload -----------------------------------------------------------------------


def store_version(
    session: Session,
    user: User,
    contract: Contract,
    quarter: Quarter,
    content: bytes,
    filename: str,
    checked: CheckedReturn,
    *,
    submit: bool,
    acknowledge_warnings: bool,
    settings: Mapping[str, Any] | None = None,
    today: date | None = None,
    expected: ExpectedReturn | None = None,
    items: list[FrameworkItem] | None = None,
) -> ReturnVersion:
    """Keep a checked workbook as the next version of the contract's return for
    `quarter`, submitted or as a draft. Nothing is stored if the check found
    errors, or found warnings nobody acknowledged.

    `expected` and `items` are the expected return and the framework items in
    force that the caller's validation already looked up (see
    `commands.SubmitReturn`); without them they are looked up here."""
    if not can_upload(user, contract):
        raise Forbidden("Only the provider or a commissioner of this contract can upload its returns")
    config = _settings(settings)
    now = today or clock_today()
    if expected is None:
        expected = expected_return(session, contract, quarter, now, CalendarRules.from_config(config))
    if items is None:
        items = items_in_force(session, contract.id, quarter)
    errors: dict[str, str] = {}
    if expected is None:
        errors["period"] = (
            f"{quarter.label} has not begun yet"
            if quarter.start > now
            else f"{contract.reference} does not report for {quarter.label}: it was not running then, "
            "or had no performance framework for that quarter"
        )
    if not content:
        errors["file"] = "The selected file is empty; upload the completed return workbook"
    elif checked.errors:
        count = len(checked.errors)
        errors["file"] = (
            f"The workbook has {count_text(count, 'problem')}. Nothing was saved: "
            "correct them and upload it again"
        )
    elif (checked.contract_id not in (None, contract.id)) or (checked.period not in ("", str(quarter))):
        errors["file"] = (
            f"This workbook is for another contract or quarter; download the template for "
            f"{contract.reference} {quarter.label} and use that"
        )
    if submit and quarter.end >= now:
        errors["submit"] = (
            f"You can submit the return for {quarter.label} once the quarter has ended, "
            f"from {day_text(quarter.next().start)}. Save it as a draft until then"
        )
    record = expected.record if expected is not None else None
    if record is not None and record.state == ReturnState.ACCEPTED:
        errors["state"] = (
            "This return has been accepted, so it cannot be changed. Ask the commissioner to reopen it first"
        )
    kpis = {item.kpi.code: item.kpi for item in items}
    if "file" not in errors:
        errors |= _figure_problems(checked, set(kpis))
    if not errors and checked.warnings and not acknowledge_warnings:
        errors["acknowledge_warnings"] = warnings_summary(checked.warnings)
    if errors:
        raise ValidationFailed(errors)
    assert expected is not None  # for mypy: a missing expectation is an error above

    if record is None:
        record = Return(
            contract_id=contract.id,
            period=str(quarter),
            state=next_state(None, submit=submit).value,
            due_date=expected.due_date,
            # Known empty: appending below then needs no query to load them.
            versions=[],
            events=[],
        )
        session.add(record)
    else:
        record.state = next_state(ReturnState(record.state), submit=submit).value
        if submit:
            # Checked against the framework in force now, so nothing required is missing any more.
            record.needs_resubmission = False
            record.resubmission_reason = ""
        touch(record)
    # Claim the return now (a lost race fails here, before any work).
    _flush(session)

    last = session.scalar(select(func.max(ReturnVersion.number)).where(ReturnVersion.return_id == record.id))
    version = ReturnVersion(
        number=(last or 0) + 1,
        filename=_safe_filename(filename),
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        template_version=checked.template_version or "unknown",
        submitted=submit,
        warnings_acknowledged=bool(checked.warnings),
        uploaded_by_id=user.id,
    )
    _link_to_contract(version, contract.id)
    rows = _figure_rows(kpis, checked, config)
    record.versions.append(version)
    kind = EventKind.DRAFT
    if submit:
        kind = EventKind.RESUBMITTED if record.state == ReturnState.RESUBMITTED else EventKind.SUBMITTED
    add_event(session, user, record, kind, version=version.number)
    _flush(session)
    # Hundreds of figures and outcome rows, once the version has its id: one
    # executemany per table on the transaction's connection. (The ORM's bulk path
    # cost more per row than the database did, and split rows with and without a
    # null into separate small batches.)
    connection = session.connection()
    for model, batch in rows.items():
        if batch:
            connection.execute(insert(model), [{**row, "version_id": version.id} for row in batch])
    return version


def _safe_filename(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "return.xlsx"
    return name[-255:]


def _figure_problems(checked: CheckedReturn, known_codes: set[str]) -> dict[str, str]:
    """What the ingest checks should already have caught; checked again because
    a bad figure must never reach the database."""
    unknown = sorted({f.kpi_code for f in checked.figures} - known_codes)
    if unknown:
        return {
            "file": "The workbook has figures for KPIs that are not in this contract's framework for the "
            f"quarter: {', '.join(unknown)}. Download the template for the quarter again and use that"
        }
    counts = Counter((f.kpi_code, f.breakdown) for f in checked.figures)
    twice = sorted(key for key, count in counts.items() if count > 1)
    if twice:
        named = ", ".join(f"{code} {breakdown or 'total'}" for code, breakdown in twice)
        return {"file": f"The workbook gives these figures more than once: {named}"}
    return {}


def _figure_rows(
    kpis: dict[str, Kpi],
    checked: CheckedReturn,
    config: Mapping[str, Any],
) -> dict[type, list[dict[str, Any]]]:
    """The rows a version holds: figures (typed and derived), commentary, outcome scores."""
    values = [
        {
            "kpi_id": kpis[figure.kpi_code].id,
            "breakdown": figure.breakdown,
            "value": figure.value,
            "numerator": figure.numerator,
            "denominator": figure.denominator,
        }
        for figure in checked.figures
    ]
    seen = {(f.kpi_code, f.breakdown) for f in checked.figures}
    # `kpis` is the framework in force, so a derived figure is kept only for a KPI it requires.
    for code, (value, numerator, denominator) in derived_figures(checked, config).items():
        if (code, "") not in seen and code in kpis:
            fraction = kpis[code].has_fraction
            values.append(
                {
                    "kpi_id": kpis[code].id,
                    "breakdown": "",
                    "value": value,
                    "numerator": numerator if fraction else None,
                    "denominator": denominator if fraction else None,
                }
            )
    commentary = [
        {"kpi_id": kpis[code].id, "text": text.strip()}
        for code, text in checked.commentary.items()
        if text.strip() and code in kpis
    ]
    outcomes = [
        {
            "measure": outcome.measure,
            "informant": outcome.informant,
            "pre_score": outcome.pre_score,
            "post_score": outcome.post_score,
        }
        for outcome in checked.outcomes
    ]
    return {ReturnValue: values, ReturnCommentary: commentary, OutcomeScore: outcomes}


Derived = tuple[Decimal, Decimal | None, Decimal | None]


def derived_figures(checked: CheckedReturn, config: Mapping[str, Any]) -> dict[str, Derived]:
    """KPI figures worked out from the outcome scores (SDQ-IMPROVED and the like),
    when there are scores."""
    if not checked.outcomes:
        return {}
    summaries = outcomes.summarise_outcomes(checked.outcomes, outcomes.OutcomeSettings.from_config(config))
    by_measure = {s.measure: s for s in summaries}
    measures: Mapping[str, str] = outcomes.IMPROVEMENT_KPIS
    result: dict[str, Derived] = {}
    for code, value in outcomes.improvement_kpis(summaries).items():
        if value is None:
            continue
        summary = by_measure.get(measures.get(code, ""))
        numerator = Decimal(summary.improved_count) if summary is not None else None
        denominator = Decimal(summary.paired) if summary is not None else None
        result[code] = (Decimal(value), numerator, denominator)
    return result


# Review -----------------------------------------------------------------------


def _review_checks(user: User, ret: Return, what: str, seen_revision: int | None) -> None:
    if not can_review(user, ret.contract):
        raise Forbidden(f"Only the lead or a partner commissioner of this contract can {what} its returns")
    if seen_revision is not None and seen_revision != ret.revision:
        raise ReturnConflict()


def _comment(value: str, field: str, missing: str) -> tuple[str, dict[str, str]]:
    text = (value or "").strip()
    if not text:
        return text, {field: missing}
    if len(text) > MAX_COMMENT_LENGTH:
        return text, {field: f"Keep it to {MAX_COMMENT_LENGTH} characters or fewer"}
    return text, {}


def _require_state(ret: Return, allowed: frozenset[ReturnState], action: str) -> dict[str, str]:
    if ReturnState(ret.state) in allowed:
        return {}
    return {
        "state": f"You can only {action} a return that is {_states_text(allowed)}; this one is {ret.state}"
    }


def _states_text(states: frozenset[ReturnState]) -> str:
    return " or ".join(s.value for s in ReturnState if s in states)


REVIEWABLE = frozenset({ReturnState.SUBMITTED, ReturnState.RESUBMITTED})


def query_return(
    session: Session, user: User, ret: Return, comment: str, *, seen_revision: int | None = None
) -> Return:
    """Send a submitted return back to the provider with a comment they will see."""
    _review_checks(user, ret, "query", seen_revision)
    text, errors = _comment(
        comment, "comment", "Enter a comment telling the provider what to check or correct"
    )
    errors |= _require_state(ret, REVIEWABLE, "query")
    if errors:
        raise ValidationFailed(errors)
    ret.state = ReturnState.QUERIED.value
    touch(ret)
    latest = latest_submitted(ret)
    add_event(session, user, ret, EventKind.QUERIED, text, latest.number if latest else None)
    _flush(session)
    return ret


def accept_return(
    session: Session, user: User, ret: Return, comment: str = "", *, seen_revision: int | None = None
) -> Return:
    """Accept the latest submitted version; the return is then locked."""
    _review_checks(user, ret, "accept", seen_revision)
    text = (comment or "").strip()
    errors = _require_state(ret, REVIEWABLE, "accept")
    if ret.needs_resubmission and not errors:
        errors["state"] = (
            f"This return needs resubmission: {ret.resubmission_reason}. Query it, or wait for the provider "
            "to submit it again, before accepting it"
        )
    if len(text) > MAX_COMMENT_LENGTH:
        errors["comment"] = f"Keep it to {MAX_COMMENT_LENGTH} characters or fewer"
    if errors:
        raise ValidationFailed(errors)
    ret.state = ReturnState.ACCEPTED.value
    touch(ret)
    latest = latest_submitted(ret)
    add_event(session, user, ret, EventKind.ACCEPTED, text, latest.number if latest else None)
    _flush(session)
    return ret


def reopen_return(
    session: Session, user: User, ret: Return, reason: str, *, seen_revision: int | None = None
) -> Return:
    """Unlock an accepted return: it goes back to the provider as queried, with the reason."""
    _review_checks(user, ret, "reopen", seen_revision)
    text, errors = _comment(reason, "reason", "Enter the reason for reopening the return")
    errors |= _require_state(ret, frozenset({ReturnState.ACCEPTED}), "reopen")
    if errors:
        raise ValidationFailed(errors)
    ret.state = ReturnState.QUERIED.value
    touch(ret)
    latest = latest_submitted(ret)
    add_event(session, user, ret, EventKind.REOPENED, text, latest.number if latest else None)
    _flush(session)
    return ret


# Reading ----------------------------------------------------------------------


def format_figure(value: Decimal | None) -> str:
    """A figure as people write it: 1,250 and 88.5, never 88.50 or 1.25E+3."""
    if value is None:
        return ""
    text = f"{value:,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class ComparisonRow:
    kpi_code: str
    kpi_name: str
    breakdown: str  # "" for the KPI's total
    old: Decimal | None
    new: Decimal | None

    @property
    def change(self) -> Decimal | None:
        if self.old is None or self.new is None:
            return None
        return self.new - self.old

    @property
    def changed(self) -> bool:
        return self.old != self.new


def _breakdown_order(kpi: Kpi, breakdown: str) -> tuple[int, int]:
    if not breakdown:
        return (0, 0)
    positions = {b.label: b.position for b in kpi.breakdowns}
    return (1, positions.get(breakdown, 10_000))


def compare_versions(a: ReturnVersion, b: ReturnVersion) -> list[ComparisonRow]:
    """Every figure in either version, KPI by KPI, old (a) beside new (b)."""
    old = {(v.kpi_id, v.breakdown): v for v in a.values}
    new = {(v.kpi_id, v.breakdown): v for v in b.values}
    rows = []
    for key in old.keys() | new.keys():
        value = new.get(key) or old[key]
        rows.append(
            (
                (value.kpi.code, *_breakdown_order(value.kpi, value.breakdown), value.breakdown),
                ComparisonRow(
                    kpi_code=value.kpi.code,
                    kpi_name=value.kpi.name,
                    breakdown=value.breakdown,
                    old=old[key].value if key in old else None,
                    new=new[key].value if key in new else None,
                ),
            )
        )
    return [row for _, row in sorted(rows, key=lambda pair: pair[0])]


@dataclass(frozen=True)
class FigureRow:
    """One KPI of a version beside its target, for the return page."""

    item: FrameworkItem | None
    kpi: Kpi
    value: ReturnValue | None
    breakdowns: list[ReturnValue]
    commentary: str
    target: Decimal | None
    rag: Any  # monitor.kpis.performance.rag.Rag when that module is installed, else None
    target_note: str = ""  # 'pro-rated: 31 of 90 days' when the target was pro-rated for a part quarter


def version_figures(
    session: Session, contract: Contract, quarter: Quarter, version: ReturnVersion
) -> list[FigureRow]:
    """The framework's KPIs in framework order, each with this version's figures
    and its rating; then any other figures."""
    totals = {v.kpi_id: v for v in version.values if not v.breakdown}
    parts: dict[int, list[ReturnValue]] = {}
    for value in version.values:
        if value.breakdown:
            parts.setdefault(value.kpi_id, []).append(value)
    notes = {c.kpi_id: c.text for c in version.commentary}
    rows: list[FigureRow] = []
    shown: set[int] = set()
    for item in items_in_force(session, contract.id, quarter):
        kpi = item.kpi
        shown.add(kpi.id)
        total = totals.get(kpi.id)
        # The quarter's target, pro-rated when the contract started or ended inside it.
        quarter_target = item_target(item, contract, quarter)
        target = quarter_target.value
        rating = rag_rules.rate(
            total.value if total else None, target, item.effective_direction, item.amber_tolerance_pct
        )
        rows.append(
            FigureRow(
                item,
                kpi,
                total,
                _ordered(kpi, parts.get(kpi.id, [])),
                notes.get(kpi.id, ""),
                target,
                rating,
                quarter_target.note,
            )
        )
    extra = {v.kpi_id: v.kpi for v in version.values if v.kpi_id not in shown}
    for kpi in sorted(extra.values(), key=lambda k: k.code):
        rows.append(
            FigureRow(
                None,
                kpi,
                totals.get(kpi.id),
                _ordered(kpi, parts.get(kpi.id, [])),
                notes.get(kpi.id, ""),
                None,
                None,
            )
        )
    return rows


def _ordered(kpi: Kpi, values: list[ReturnValue]) -> list[ReturnValue]:
    return sorted(values, key=lambda v: _breakdown_order(kpi, v.breakdown))
