"""What a check of a return workbook produces: the figures it read and every
message, each naming the sheet, the cell, the KPI, what is wrong and the fix.

This is the contract between the ingest pipeline and everything that stores,
shows or serves a return (web page, API, CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Message:
    sheet: str
    cell: str  # A1 notation, "" when the message is about the whole file
    kpi: str  # KPI code, "" when not about one KPI
    severity: Severity
    message: str  # what is wrong and how to fix it, in plain English

    def as_dict(self) -> dict[str, str]:
        return {
            "sheet": self.sheet,
            "cell": self.cell,
            "kpi": self.kpi,
            "severity": self.severity.value,
            "message": self.message,
        }


@dataclass(frozen=True)
class FigureIn:
    kpi_code: str
    breakdown: str  # "" for the KPI's total
    value: Decimal
    numerator: Decimal | None = None
    denominator: Decimal | None = None


@dataclass(frozen=True)
class OutcomeIn:
    measure: str
    informant: str | None
    pre_score: Decimal
    post_score: Decimal


@dataclass
class CheckedReturn:
    """Everything read from one workbook, and what is wrong with it."""

    contract_id: int | None = None
    period: str = ""
    template_version: str = ""
    figures: list[FigureIn] = field(default_factory=list)
    commentary: dict[str, str] = field(default_factory=dict)  # KPI code -> text
    outcomes: list[OutcomeIn] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    @property
    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Message]:
        return [m for m in self.messages if m.severity == Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors
