"""Stage 4: rules across cells: parts add up to totals, a count is not above
the count it is part of, outcome scores are in range for their measure."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from monitor.kpis.returns.ingest.cells import KpiCells, OutcomeRow
from monitor.kpis.returns.ingest.messages import error
from monitor.kpis.returns.ingest.result import Message
from monitor.kpis.returns.template.layout import Line
from monitor.kpis.returns.template.rows import KpiRow, format_figure, lower_first

# (KPI, KPI it cannot exceed): people complete a programme only after starting it.
NOT_ABOVE: tuple[tuple[str, str], ...] = (("PERP-COMPLETIONS", "PERP-STARTS"),)

# Total scores each measure can take (SWEMWBS as the raw score, before conversion).
SCORE_RANGES: dict[str, tuple[int, int, str]] = {
    "SDQ": (0, 40, "SDQ total difficulties score"),
    "WEMWBS": (14, 70, "WEMWBS total score"),
    "SWEMWBS": (7, 35, "SWEMWBS raw total score"),
}
HAS_INFORMANT = {"SDQ"}


def check_kpis(cells: KpiCells, sheet: str, rows: list[KpiRow]) -> list[Message]:
    problems: list[Message] = []
    by_kpi: dict[str, list[KpiRow]] = defaultdict(list)
    for row in rows:
        by_kpi[row.kpi.code].append(row)
    for code, kpi_rows in by_kpi.items():
        kpi = kpi_rows[0].kpi
        if kpi.breakdowns and not kpi.has_fraction:
            problems += _parts_add_up(cells, sheet, code, kpi_rows)
        if kpi.has_fraction:
            numerator = cells.values.get((code, "", Line.NUMERATOR))
            denominator = cells.values.get((code, "", Line.DENOMINATOR))
            if numerator is not None and denominator is not None and numerator > denominator:
                problems.append(
                    error(
                        sheet,
                        cells.cells[(code, "", Line.NUMERATOR)],
                        code,
                        f"{kpi.numerator_label} ({numerator}) is more than "
                        f"{lower_first(kpi.denominator_label or '')} ({denominator}), which it is part of. "
                        "Correct one of the two figures.",
                    )
                )
    names = {code: kpi_rows[0].kpi.name for code, kpi_rows in by_kpi.items()}
    for smaller, larger in NOT_ABOVE:
        low = cells.values.get((smaller, "", Line.VALUE))
        high = cells.values.get((larger, "", Line.VALUE))
        if low is not None and high is not None and low > high:
            problems.append(
                error(
                    sheet,
                    cells.cells[(smaller, "", Line.VALUE)],
                    smaller,
                    f"{names[smaller]} ({low}) is more than {lower_first(names[larger])} ({high}). "
                    f"It cannot be more: correct one of the two figures.",
                )
            )
    return problems


def _parts_add_up(cells: KpiCells, sheet: str, code: str, kpi_rows: list[KpiRow]) -> list[Message]:
    parts = [cells.values.get(row.key) for row in kpi_rows if row.line == Line.BREAKDOWN]
    total_key = (code, "", Line.TOTAL)
    total = cells.values.get(total_key)
    if total is None or any(part is None for part in parts):
        return []
    added = sum((part for part in parts if part is not None), Decimal(0))
    if added == total:
        return []
    kpi = kpi_rows[0].kpi
    unit = kpi.unit
    return [
        error(
            sheet,
            cells.cells[total_key],
            code,
            f"The parts of {lower_first(kpi.name)} add up to {format_figure(added, unit)}, but the total is "
            f"{format_figure(total, unit)}. Correct the parts or the total so that they match.",
        )
    ]


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
