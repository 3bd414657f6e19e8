"""The register query: the filters, sorting and pagination shared by the web
page, the Excel export and the API, so the three always agree."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from monitor.auth.models import Organisation, User
from monitor.contracts.access import visible_contracts
from monitor.contracts.dates import date_within, status_expression
from monitor.contracts.models import Category, Contract, FundingLine, ServiceType, contract_partners
from monitor.contracts.renewal import DATE_KIND_NAMES, DateKind, Status

SORTS = {
    "end_date": "End date",
    "reference": "Reference",
    "title": "Service",
    "provider": "Provider",
    "annual_value": "Annual value",
    "status": "Status",
}
MAX_PAGE_SIZE = 100


@dataclass
class RegisterFilters:
    status: str = ""
    category: str = ""
    service_type: str = ""
    provider_id: int | None = None
    commissioner_id: int | None = None
    funder_id: int | None = None
    # Which date falls within `ends_within_months` of today: the end date unless chosen.
    date_kind: DateKind = DateKind.END
    ends_within_months: int | None = None
    search: str = ""
    sort: str = "end_date"
    descending: bool = False
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def as_args(self, **overrides: Any) -> dict[str, Any]:
        """Query-string arguments that reproduce these filters."""
        args: dict[str, Any] = {
            "status": self.status,
            "category": self.category,
            "service_type": self.service_type,
            "provider": self.provider_id,
            "commissioner": self.commissioner_id,
            "funder": self.funder_id,
            "which_date": None if self.date_kind == DateKind.END else self.date_kind.value,
            "ends_within": self.ends_within_months,
            "q": self.search,
            "sort": self.sort,
            "order": "desc" if self.descending else "asc",
            "page": self.page,
        }
        args.update(overrides)
        return {k: v for k, v in args.items() if v not in (None, "")}


def _whole_number(args: Mapping[str, str], name: str, errors: dict[str, str], message: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    # ASCII digits only ("²".isdigit() is true but int() refuses it), and few
    # enough of them to fit the database's integers.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        errors[name] = message
        return None
    return int(raw)


def parse_filters(args: Mapping[str, str]) -> RegisterFilters:
    """Read filters from a query string, keeping a message for each bad one."""
    errors: dict[str, str] = {}
    filters = RegisterFilters(errors=errors)
    status = (args.get("status") or "").strip()
    if status and status not in Status.__members__.values():
        errors["status"] = "Choose a status from the list"
    else:
        filters.status = status
    category = (args.get("category") or "").strip()
    if category and category not in Category.__members__.values():
        errors["category"] = "Choose core, supporting or supplementary"
    else:
        filters.category = category
    service_type = (args.get("service_type") or "").strip()
    if service_type and service_type not in ServiceType.__members__.values():
        errors["service_type"] = "Choose a service type from the list"
    else:
        filters.service_type = service_type
    filters.provider_id = _whole_number(args, "provider", errors, "Choose a provider from the list")
    filters.commissioner_id = _whole_number(
        args, "commissioner", errors, "Choose a commissioner from the list"
    )
    filters.funder_id = _whole_number(args, "funder", errors, "Choose a funder from the list")
    months = _whole_number(args, "ends_within", errors, "Enter a whole number of months, like 6")
    if months is not None and months > 240:
        errors["ends_within"] = "Enter a number of months up to 240"
    else:
        filters.ends_within_months = months
    which = (args.get("which_date") or "").strip()
    if which and which not in DateKind.__members__.values():
        errors["which_date"] = f"Choose which date: {', '.join(n.lower() for n in DATE_KIND_NAMES.values())}"
    elif which:
        filters.date_kind = DateKind(which)
    filters.search = (args.get("q") or "").replace("\x00", "").strip()[:100]  # PostgreSQL refuses NUL
    sort = (args.get("sort") or "end_date").strip()
    if sort not in SORTS:
        errors["sort"] = f"Sort by one of: {', '.join(SORTS)}"
    else:
        filters.sort = sort
    filters.descending = (args.get("order") or "").lower() == "desc"
    page = _whole_number(args, "page", errors, "Enter a page number, like 2")
    filters.page = max(page or 1, 1)
    return filters


def _conditions(user: User, filters: RegisterFilters, today: date) -> list[ColumnElement[bool]]:
    """The WHERE clauses for these filters, limited to what the user may see."""
    conditions: list[ColumnElement[bool]] = [visible_contracts(user)]
    if filters.status:
        conditions.append(status_expression(today) == filters.status)
    if filters.category:
        conditions.append(Contract.category == filters.category)
    if filters.service_type:
        conditions.append(Contract.service_type == filters.service_type)
    if filters.provider_id is not None:
        conditions.append(Contract.provider_id == filters.provider_id)
    if filters.commissioner_id is not None:
        partner_of = select(contract_partners.c.contract_id).where(
            contract_partners.c.organisation_id == filters.commissioner_id
        )
        conditions.append(
            (Contract.lead_commissioner_id == filters.commissioner_id) | Contract.id.in_(partner_of)
        )
    if filters.funder_id is not None:
        funded = select(FundingLine.contract_id).where(FundingLine.funder_id == filters.funder_id)
        conditions.append(Contract.id.in_(funded))
    if filters.ends_within_months is not None:
        conditions.append(date_within(filters.date_kind, today, filters.ends_within_months))
    if filters.search:
        pattern = f"%{filters.search.lower()}%"
        conditions.append(
            func.lower(Contract.title).like(pattern) | func.lower(Contract.reference).like(pattern)
        )
    return conditions


def count_matching(session: Session, user: User, filters: RegisterFilters, today: date) -> int:
    # Counted without the status column or the ordering, which cost a
    # subquery per row and change nothing about how many rows match.
    query = select(func.count(Contract.id)).where(*_conditions(user, filters, today))
    return session.scalar(query) or 0


def register_select(user: User, filters: RegisterFilters, today: date) -> Select[Contract, str]:
    status = status_expression(today).label("status")
    provider = aliased(Organisation)
    query = (
        select(Contract, status)
        .join(provider, Contract.provider_id == provider.id)
        .where(*_conditions(user, filters, today))
    )
    order_column: Any = {
        "end_date": Contract.end_date,
        "reference": Contract.reference,
        "title": Contract.title,
        "provider": provider.name,
        "annual_value": Contract.annual_value,
        "status": status_expression(today),
    }[filters.sort]
    order = order_column.desc() if filters.descending else order_column.asc()
    # The id breaks ties so pages never repeat or skip a row.
    return query.order_by(order, Contract.id.desc() if filters.descending else Contract.id.asc())


@dataclass
class Page:
    rows: list[tuple[Contract, str]]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


def register_page(
    session: Session, user: User, filters: RegisterFilters, today: date, page_size: int
) -> Page:
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    query = register_select(user, filters, today)
    total = count_matching(session, user, filters, today)
    last_page = max(1, math.ceil(total / page_size))
    page = min(filters.page, last_page)
    rows = session.execute(
        query.options(
            selectinload(Contract.options),
            selectinload(Contract.amendments),
            selectinload(Contract.partner_commissioners),
        )
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return Page(rows=[(row[0], row[1]) for row in rows], total=total, page=page, page_size=page_size)


def all_register_rows(
    session: Session, user: User, filters: RegisterFilters, today: date
) -> list[tuple[Contract, str]]:
    """Every matching row, for the Excel export."""
    rows = session.execute(
        register_select(user, filters, today).options(
            selectinload(Contract.options),
            selectinload(Contract.amendments),
            selectinload(Contract.partner_commissioners),
            selectinload(Contract.funding_lines),
        )
    ).all()
    return [(row[0], row[1]) for row in rows]
