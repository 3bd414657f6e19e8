"""Funding totals for the summary page, the Excel export and the API."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.auth.models import Organisation, User
from monitor.contracts.access import visible_contracts
from monitor.contracts.models import Contract, FundingLine


@dataclass
class Matrix:
    """Amounts by row (a funder or a category) and financial year, with totals."""

    years: list[str]
    rows: list[str]
    cells: dict[tuple[str, str], Decimal] = field(default_factory=dict)

    def cell(self, row: str, year: str) -> Decimal:
        return self.cells.get((row, year), Decimal(0))

    def row_total(self, row: str) -> Decimal:
        return sum((self.cell(row, year) for year in self.years), Decimal(0))

    def year_total(self, year: str) -> Decimal:
        return sum((self.cell(row, year) for row in self.rows), Decimal(0))

    @property
    def grand_total(self) -> Decimal:
        return sum((self.year_total(year) for year in self.years), Decimal(0))

    def funders_in(self, year: str) -> int:
        return sum(1 for row in self.rows if self.cell(row, year) > 0)


def _matrix(session: Session, user: User, row_column: Any, financial_year: str | None) -> Matrix:
    query = (
        select(row_column, FundingLine.financial_year, func.sum(FundingLine.amount))
        .join(Contract, FundingLine.contract_id == Contract.id)
        .join(Organisation, FundingLine.funder_id == Organisation.id)
        .where(visible_contracts(user))
        .group_by(row_column, FundingLine.financial_year)
    )
    if financial_year:
        query = query.where(FundingLine.financial_year == financial_year)
    cells: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row, year, amount in session.execute(query):
        cells[(str(row), year)] += Decimal(amount)
    return Matrix(
        years=sorted({year for _, year in cells}),
        rows=sorted({row for row, _ in cells}),
        cells=dict(cells),
    )


def by_funder(session: Session, user: User, financial_year: str | None = None) -> Matrix:
    return _matrix(session, user, Organisation.name, financial_year)


def by_category(session: Session, user: User, financial_year: str | None = None) -> Matrix:
    return _matrix(session, user, Contract.category, financial_year)


def lines(session: Session, user: User, financial_year: str | None = None) -> list[FundingLine]:
    query = (
        select(FundingLine)
        .join(Contract, FundingLine.contract_id == Contract.id)
        .where(visible_contracts(user))
        .order_by(FundingLine.financial_year, FundingLine.contract_id, FundingLine.id)
    )
    if financial_year:
        query = query.where(FundingLine.financial_year == financial_year)
    return list(session.scalars(query))
