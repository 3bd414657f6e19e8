"""Stage 4: rules across cells. The relations between KPIs (a part not above
its whole, a percentage's denominator the count it names, breakdowns adding
up) are the library's consistency rules, each an error or a warning as the
library says; a percentage's numerator is never above its denominator; outcome
scores are in range for their measure."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.orm import object_session

from monitor.kpis.library.relations import (
    Broken,
    DeclaredRule,
    ReturnFigures,
    RuleKind,
    RuleSeverity,
    broken_rules,
)
from monitor.kpis.library.rules import declared_rules
from monitor.kpis.models import Kpi
from monitor.kpis.returns.ingest.cells import KpiCells, OutcomeRow, RowKey
from monitor.kpis.returns.ingest.messages import error, warning
from monitor.kpis.returns.ingest.result import Message
from monitor.kpis.returns.template.layout import Line
from monitor.kpis.returns.template.rows import KpiRow, format_figure, lower_first

# Total scores each measure can take (SWEMWBS as the raw score, before conversion).
SCORE_RANGES: dict[str, tuple[int, int, str]] = {
    "SDQ": (0, 40, "SDQ total difficulties score"),
    "WEMWBS": (14, 70, "WEMWBS total score"),
    "SWEMWBS": (7, 35, "SWEMWBS raw total score"),
}
HAS_INFORMANT = {"SDQ"}


def check_kpis(
    cells: KpiCells, sheet: str, rows: list[KpiRow], rules: Sequence[DeclaredRule] | None = None
) -> list[Message]:
    """Every broken rule among the figures read. `rules` defaults to the
    library's, read through the session the framework's KPIs came from."""
    if rules is None:
        session = object_session(rows[0].item) if rows else None
        rules = declared_rules(session) if session is not None else ()
    kpis = {row.kpi.code: row.kpi for row in rows}
    problems: list[Message] = []
    for kpi in kpis.values():
        if kpi.has_fraction:
            problems += _numerator_not_above_denominator(cells, sheet, kpi)
    for broken in broken_rules(rules, _figures(cells, rows)):
        problems.append(_message(cells, sheet, kpis, broken))
    return problems


def _numerator_not_above_denominator(cells: KpiCells, sheet: str, kpi: Kpi) -> list[Message]:
    numerator = cells.values.get((kpi.code, "", Line.NUMERATOR))
    denominator = cells.values.get((kpi.code, "", Line.DENOMINATOR))
    if numerator is None or denominator is None or numerator <= denominator:
        return []
    return [
        error(
            sheet,
            cells.cells[(kpi.code, "", Line.NUMERATOR)],
            kpi.code,
            f"{kpi.numerator_label} ({numerator}) is more than "
            f"{lower_first(kpi.denominator_label or '')} ({denominator}), which it is part of. "
            "Correct one of the two figures.",
        )
    ]


def _figures(cells: KpiCells, rows: list[KpiRow]) -> ReturnFigures:
    """The figures the rules compare. A KPI's breakdowns count only when every
    one was read: a missing part has its own message already."""
    figures = ReturnFigures()
    missing_part: set[str] = set()
    for row in rows:
        code, value = row.kpi.code, cells.values.get(row.key)
        if row.line == Line.BREAKDOWN:
            if value is None:
                missing_part.add(code)
            else:
                figures.parts.setdefault(code, []).append(value)
        elif value is None:
            continue
        elif row.line in (Line.VALUE, Line.TOTAL):
            figures.counts[code] = value
        elif row.line == Line.DENOMINATOR:
            figures.denominators[code] = value
    for code in missing_part:
        figures.parts.pop(code, None)
    return figures


def _count_key(cells: KpiCells, code: str) -> RowKey:
    """Where a KPI's own figure is: its value, or its total when reported by breakdown."""
    key = (code, "", Line.VALUE)
    return key if key in cells.cells else (code, "", Line.TOTAL)


def _message(cells: KpiCells, sheet: str, kpis: dict[str, Kpi], broken: Broken) -> Message:
    rule = broken.rule
    kpi, related = kpis[rule.kpi], kpis[rule.related]
    is_error = rule.severity == RuleSeverity.ERROR
    confirm = "confirm they are right when you submit."
    if rule.kind == RuleKind.PART_OF:
        cell = cells.cells[_count_key(cells, kpi.code)]
        text = f"{kpi.name} ({_count(broken.figure)}) is more than {lower_first(related.name)} ({_count(broken.against)})"
        text += (
            ". It cannot be more: correct one of the two figures."
            if is_error
            else f", which it is usually part of. Check both figures, and {confirm}"
        )
    elif rule.kind == RuleKind.DENOMINATOR:
        cell = cells.cells[(kpi.code, "", Line.DENOMINATOR)]
        text = (
            f"{kpi.denominator_label} for {lower_first(kpi.name)} is {_count(broken.figure)}, but "
            f"{lower_first(related.name)} is {_count(broken.against)} in cell {cells.cells[_count_key(cells, related.code)]}. "
        )
        text += (
            "They are the same count: correct one of the two so that they match."
            if is_error
            else f"They are usually the same count: check both, and {confirm}"
        )
    else:
        cell = cells.cells[(kpi.code, "", Line.TOTAL)]
        unit = kpi.unit
        text = (
            f"The parts of {lower_first(kpi.name)} add up to {format_figure(broken.against, unit)}, "
            f"but the total is {format_figure(broken.figure, unit)}. "
        )
        text += (
            "Correct the parts or the total so that they match."
            if is_error
            else f"Check the parts and the total, and {confirm}"
        )
    return (error if is_error else warning)(sheet, cell, kpi.code, text)


def _count(value: Decimal) -> str:
    return format_figure(value, "count")


def check_outcomes(outcomes: list[OutcomeRow], sheet: str) -> list[Message]:
    problems: list[Message] = []
    for outcome in outcomes:
        if outcome.measure is None:
            continue
        low, high, name = SCORE_RANGES[outcome.measure]
        for key, score in (("pre_score", outcome.pre_score), ("post_score", outcome.post_score)):
            if score is not None and not low <= score <= high:
                problems.append(
                    error(
                        sheet,
                        outcome.cell(key),
                        "",
                        f"{score} is outside the range of the {name}. Enter a score from {low} to {high}.",
                    )
                )
        cell = outcome.cell("informant")
        if outcome.measure in HAS_INFORMANT and outcome.informant is None:
            wrong = (
                f"'{outcome.informant_text}' is not one of the choices. " if outcome.informant_text else ""
            )
            problems.append(
                error(sheet, cell, "", f"{wrong}Enter who completed the SDQ: parent, teacher or self.")
            )
        if outcome.measure not in HAS_INFORMANT and outcome.informant_text:
            problems.append(
                error(
                    sheet,
                    cell,
                    "",
                    f"Leave the informant blank for {outcome.measure}: only SDQ scores have an informant.",
                )
            )
    return problems
