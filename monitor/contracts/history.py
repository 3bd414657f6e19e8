"""A contract's change history in words: when, who and what, with ids named.

The audit trail (monitor.audit) files every change to a contract, its
options, amendments, funding, milestones, framework, returns, return
versions and return events under the contract's id. This module reads one
page of it and writes each event as sentences: "Changed the end date from
31 March 2014 to 31 March 2015", with organisations, people, KPIs and
partnerships by name, days, money, quarters and yes/no as people write them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.audit import AuditEvent
from monitor.auth.models import Organisation, Partnership, User
from monitor.contracts.models import Amendment, ExtensionOption, FundingLine, Milestone
from monitor.formatting import (
    count_text,
    day_text,
    format_figure,
    money,
    percent,
    quarter_text,
    sentence_case,
    time_text,
)
from monitor.kpis.models import FrameworkItem, Kpi, Return

PAGE_SIZE = 25

# Bookkeeping that means nothing to a reader: what the record is filed under,
# when the row was written (the entry's own time says), a file's fingerprint.
HIDDEN = {
    "id",
    "contract_id",
    "return_id",
    "recorded_by_id",
    "recorded_at",
    "sha256",
    "size_bytes",
    "at",
    "uploaded_at",
}

FIELD_NAMES = {
    "service_type": "service type",
    "agreement_type": "agreement type",
    "provider_id": "provider",
    "lead_commissioner_id": "lead commissioner",
    "partner_commissioners": "partner commissioners",
    "start_date": "start date",
    "original_end_date": "end of the initial term",
    "end_date": "end date",
    "award_date": "award date",
    "notice_period_months": "notice period",
    "annual_value": "annual value",
    "initial_value": "initial value",
    "total_value": "total value",
    "contract_manager": "contract manager",
    "length_months": "length",
    "sequence": "number",
    "effective_date": "date it takes effect",
    "old_end_date": "end date before",
    "new_end_date": "end date after",
    "old_value": "value before",
    "new_value": "value after",
    "approved_by": "approver",
    "board_minute_reference": "board minute reference",
    "extension_option_id": "extension option",
    "planned": "recorded ahead of its date",
    "corrects_id": "amendment corrected",
    "funder_id": "funder",
    "funding_stream": "funding stream",
    "financial_year": "financial year",
    "due_date": "due date",
    "met_on": "date met",
    "kpi_id": "KPI",
    "target_basis": "target basis",
    "amber_tolerance_pct": "amber tolerance",
    "effective_from": "first quarter",
    "effective_to": "last quarter",
    "period": "quarter",
    "needs_resubmission": "needs resubmitting",
    "resubmission_reason": "reason to resubmit",
    "number": "version",
    "filename": "file",
    "template_version": "template version",
    "warnings_acknowledged": "warnings acknowledged",
    "uploaded_by_id": "uploaded by",
    "version_number": "version",
    "by_id": "by",
    "partnership_id": "partnership",
    "organisation_id": "organisation",
    "kind": "kind",
    "state": "state",
}

DATE_FIELDS = {
    "start_date",
    "original_end_date",
    "end_date",
    "award_date",
    "effective_date",
    "old_end_date",
    "new_end_date",
    "due_date",
    "met_on",
}
MONEY_FIELDS = {"annual_value", "initial_value", "total_value", "old_value", "new_value", "amount"}
QUARTER_FIELDS = {"effective_from", "effective_to", "period"}
ORGANISATION_FIELDS = {"provider_id", "lead_commissioner_id", "funder_id", "organisation_id"}
PERSON_FIELDS = {"uploaded_by_id", "by_id"}

# What happened to a return, as a sentence about it ("Accepted the Q1 2013/14 return").
RETURN_EVENTS = {
    "draft saved": "Saved a draft of {thing}",
    "submitted": "Submitted {thing}",
    "resubmitted": "Resubmitted {thing}",
    "queried": "Queried {thing}",
    "accepted": "Accepted {thing}",
    "reopened": "Reopened {thing}",
    "needs resubmission": "Asked for {thing} to be resubmitted",
}


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    who: str
    what: list[str]
    # What a newly added record held, as (field, value), for a details list.
    recorded: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryEntry]
    page: int
    pages: int
    total: int


@dataclass
class _Names:
    """Every name an entry on the page may need, read once per page."""

    organisations: dict[int, str]
    partnerships: dict[int, str]
    people: dict[int, tuple[str, str]]
    kpis: dict[int, Kpi]
    options: dict[int, ExtensionOption]
    amendments: dict[int, Amendment]
    funding_lines: dict[int, FundingLine]
    milestones: dict[int, Milestone]
    framework_items: dict[int, FrameworkItem]
    returns: dict[int, str]  # id -> period


def history_page(session: Session, contract_id: int, page: int, page_size: int = PAGE_SIZE) -> HistoryPage:
    """One page of the contract's history, newest first; a page past the
    last is the last page (the page says which it is)."""
    total = session.scalar(select(func.count()).where(AuditEvent.contract_id == contract_id)) or 0
    pages = max(1, math.ceil(total / page_size))
    page = min(max(page, 1), pages)
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.contract_id == contract_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    names = _names(session, contract_id, events)
    return HistoryPage([_entry(event, names) for event in events], page, pages, total)


def _names(session: Session, contract_id: int, events: Any) -> _Names:
    person_ids = {event.actor_id for event in events if event.actor_id is not None}
    for event in events:
        for key in PERSON_FIELDS:
            for value in event.changes.get(key, []):
                if isinstance(value, int):
                    person_ids.add(value)
    organisations: dict[int, str] = {
        row.id: row.name for row in session.execute(select(Organisation.id, Organisation.name))
    }
    people = {
        row.id: (row.name, organisations.get(row.organisation_id) or row.partnership_name or "")
        for row in session.execute(
            select(User.id, User.name, User.organisation_id, Partnership.name.label("partnership_name"))
            .outerjoin(Partnership, Partnership.id == User.partnership_id)
            .where(User.id.in_(person_ids))
        )
    }

    def of(model: Any) -> dict[int, Any]:
        return {row.id: row for row in session.scalars(select(model).where(model.contract_id == contract_id))}

    return _Names(
        organisations=organisations,
        partnerships={row.id: row.name for row in session.execute(select(Partnership.id, Partnership.name))},
        people=people,
        kpis={kpi.id: kpi for kpi in session.scalars(select(Kpi))},
        options=of(ExtensionOption),
        amendments=of(Amendment),
        funding_lines=of(FundingLine),
        milestones=of(Milestone),
        framework_items=of(FrameworkItem),
        returns={
            row.id: row.period
            for row in session.execute(
                select(Return.id, Return.period).where(Return.contract_id == contract_id)
            )
        },
    )


def _who(event: AuditEvent, names: _Names) -> str:
    if event.actor_id is not None and event.actor_id in names.people:
        name, organisation = names.people[event.actor_id]
        return f"{name}, {organisation}" if organisation else name
    # The demo loader, a command or someone since deleted: as the trail recorded them.
    return sentence_case(event.actor_label)


def _after(event: AuditEvent, key: str) -> Any:
    values = event.changes.get(key)
    return values[1] if values else None


def _known(event: AuditEvent, key: str, record: Any) -> Any:
    """A field's value as the event left it, or as the record now holds it."""
    values = event.changes.get(key)
    if values is not None:
        return values[1] if values[1] is not None else values[0]
    return getattr(record, key, None) if record is not None else None


def _thing(event: AuditEvent, names: _Names) -> str:
    """What the event changed, as a reader names it: "the contract", "the Q1 2013/14 return"."""
    kind, entity = event.entity_type, event.entity_id
    if kind == "contract":
        return "the contract"
    if kind == "extension option":
        option = names.options.get(entity or 0)
        sequence, months = _known(event, "sequence", option), _known(event, "length_months", option)
        if sequence is None or months is None:
            return f"the extension option {event.entity_label}".strip()
        return f"extension option {sequence} ({count_text(int(months), 'month')})"
    if kind == "amendment":
        amendment = names.amendments.get(entity or 0)
        amendment_kind = _known(event, "kind", amendment)
        return f"the {amendment_kind} amendment" if amendment_kind else "an amendment"
    if kind == "funding line":
        line = names.funding_lines.get(entity or 0)
        funder = names.organisations.get(_known(event, "funder_id", line) or 0, "")
        stream, year = _known(event, "funding_stream", line), _known(event, "financial_year", line)
        parts = [part for part in (funder, stream, year) if part]
        return f"the funding line ({', '.join(parts)})" if parts else "a funding line"
    if kind == "milestone":
        title = _known(event, "title", names.milestones.get(entity or 0))
        return f"the milestone “{title}”" if title else "a milestone"
    if kind == "cohort":
        return f"the cohort “{_known(event, 'cohort', None)}”"
    if kind == "framework item":
        item = names.framework_items.get(entity or 0)
        kpi = names.kpis.get(_known(event, "kpi_id", item) or 0)
        start = _known(event, "effective_from", item)
        if kpi is None:
            return f"the framework item {event.entity_label}".strip()
        return (
            f"the framework's {kpi.name} from {quarter_text(start)}"
            if start
            else f"the framework's {kpi.name}"
        )
    if kind in ("return", "return version", "return event"):
        return_id = entity if kind == "return" else _known(event, "return_id", None)
        period = names.returns.get(return_id or 0) or _known(event, "period", None)
        the_return = f"the {quarter_text(period)} return" if period else "a return"
        if kind == "return version":
            number = _known(event, "number", None)
            return f"version {number} of {the_return}" if number else f"a version of {the_return}"
        return the_return
    return f"the {kind} {event.entity_label}".strip()


def value_text(key: str, value: Any, names: _Names, unit: str | None = None) -> str:
    """One stored value as a reader writes it; "none" when empty."""
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    named: dict[str, Callable[[Any], str | None]] = {
        "organisation": lambda v: names.organisations.get(v),
        "partnership": lambda v: names.partnerships.get(v),
        "person": lambda v: names.people[v][0] if v in names.people else None,
        "kpi": lambda v: names.kpis[v].name if v in names.kpis else None,
        "option": lambda v: names.options[v].label if v in names.options else None,
    }
    kind = (
        "organisation"
        if key in ORGANISATION_FIELDS
        else "partnership"
        if key == "partnership_id"
        else "person"
        if key in PERSON_FIELDS
        else "kpi"
        if key == "kpi_id"
        else "option"
        if key == "extension_option_id"
        else None
    )
    if kind is not None and isinstance(value, int):
        return named[kind](value) or f"{kind} no longer recorded"
    if key == "corrects_id" and isinstance(value, int):
        corrected = names.amendments.get(value)
        return (
            f"the {corrected.kind} of {day_text(corrected.effective_date)}"
            if corrected
            else "an earlier amendment"
        )
    try:
        if key in DATE_FIELDS:
            return day_text(date.fromisoformat(str(value)))
        if key.endswith("_at"):
            return time_text(datetime.fromisoformat(str(value)))
        if key in MONEY_FIELDS:
            return money(Decimal(str(value)))
        if key == "amber_tolerance_pct":
            return percent(Decimal(str(value)))
        if key == "target" and unit:
            return format_figure(Decimal(str(value)), unit)
    except (ValueError, InvalidOperation):
        return str(value)
    if key in QUARTER_FIELDS:
        return quarter_text(str(value))
    if key in ("notice_period_months", "length_months") and isinstance(value, int):
        return count_text(value, "month")
    return str(value)


def _field(key: str) -> str:
    return FIELD_NAMES.get(key, key.replace("_", " "))


def _entry(event: AuditEvent, names: _Names) -> HistoryEntry:
    thing = _thing(event, names)
    unit = _unit(event, names)
    shown = {key: values for key, values in event.changes.items() if key not in HIDDEN}
    who = _who(event, names)
    if event.entity_type == "return event" and event.action == "create":
        kind = _after(event, "kind")
        sentence = RETURN_EVENTS.get(str(kind), "Recorded “{kind}” on {thing}").format(thing=thing, kind=kind)
        version = _after(event, "version_number")
        what = [f"{sentence} (version {version})" if version else sentence]
        comment = _after(event, "comment")
        return HistoryEntry(event.at, who, what, [("Comment", comment)] if comment else [])
    if event.action == "create":
        recorded = [
            (sentence_case(_field(key)), value_text(key, values[1], names, unit))
            for key, values in shown.items()
            if values[1] is not None and values[1] != ""
        ]
        verb = "Uploaded" if event.entity_type == "return version" else "Added"
        return HistoryEntry(event.at, who, [f"{verb} {thing}"], recorded)
    if event.action == "delete":
        return HistoryEntry(event.at, who, [f"Removed {thing}"])
    of_thing = "" if event.entity_type == "contract" else f" of {thing}"
    what = [
        f"Changed the {_field(key)}{of_thing} from {value_text(key, before, names, unit)} "
        f"to {value_text(key, after, names, unit)}"
        for key, (before, after) in shown.items()
    ]
    return HistoryEntry(event.at, who, what or [f"Changed {thing}"])


def _unit(event: AuditEvent, names: _Names) -> str | None:
    if event.entity_type != "framework item":
        return None
    kpi = names.kpis.get(_known(event, "kpi_id", names.framework_items.get(event.entity_id or 0)) or 0)
    return kpi.unit if kpi else None
