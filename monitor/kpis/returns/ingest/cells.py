"""Stage 3: every cell on its own: present, a number of the right kind, in range.

The KPIs sheet must hold exactly the input rows of the framework in force
(found by the hidden KPI code, breakdown and line columns), so a template
from before the framework changed is caught rather than misread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from monitor.formatting import round_half_up
from monitor.kpis.returns.ingest.messages import (
    BLANK,
    NOT_A_DATE_FIGURE,
    below_zero,
    error,
    not_a_number,
    not_whole,
    warning,
)
from monitor.kpis.returns.ingest.numbers import CENT, Problem, Reading, is_whole, read_number
from monitor.kpis.returns.ingest.result import Message
from monitor.kpis.returns.ingest.tables import DOWNLOAD_AGAIN, FoundTable, TableRow
from monitor.kpis.returns.template.layout import Line, TemplateLayout
from monitor.kpis.returns.template.rows import KpiRow, lower_first
from monitor.kpis.returns.template.writer import LARGEST_FIGURE
from monitor.kpis.vocabulary import Unit

RowKey = tuple[str, str, str]  # KPI code, breakdown, line
# A1 reference -> the formula in that cell, if it has one (read only when a cell looks blank).
FormulaAt = Callable[[str], str | None]
FORMULA_WITHOUT_RESULT = (
    "This cell has a formula ({formula}) but no saved result, so there is no figure to read: the program "
    "that saved the file did not work it out. Open the workbook in Excel and save it, or type the figure "
    "in place of the formula."
)


def no_formulas(_cell: str) -> str | None:
    return None


@dataclass
class KpiCells:
    """The figures read from the KPIs sheet, by row key, and the cell each came from."""

    values: dict[RowKey, Decimal] = field(default_factory=dict)
    cells: dict[RowKey, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutcomeRow:
    source: TableRow
    measure: str | None
    informant: str | None
    informant_text: str  # as typed, so a wrong choice is not also reported as missing
    pre_score: Decimal | None
    post_score: Decimal | None

    def cell(self, key: str) -> str:
        return self.source.cell(key)


@dataclass
class Commentary:
    texts: dict[str, str] = field(default_factory=dict)  # KPI code -> explanation
    cells: dict[str, str] = field(default_factory=dict)  # KPI code -> A1 of its explanation cell


def check_kpis(
    found: FoundTable, expected: list[KpiRow], formula_at: FormulaAt = no_formulas
) -> tuple[KpiCells, list[Message]]:
    """The figures on the KPIs sheet, and what is wrong with them. `formula_at` tells a
    formula saved without its result from a blank cell."""
    sheet = found.table.sheet
    wanted = {row.key: row for row in expected if row.line in Line.INPUTS}
    result, problems = KpiCells(), []
    for row in found.rows:
        code = row.text("kpi_code")
        key = (code, row.text("breakdown"), row.text("line"))
        cell = row.cell("value")
        if not code:
            if row.text("value"):
                problems.append(
                    error(
                        sheet,
                        cell,
                        "",
                        "This figure is not on a row of the template, so it cannot be read. Delete it, or "
                        "download the template again and copy your figures into it.",
                    )
                )
            continue
        if key[2] not in Line.INPUTS:
            continue
        kpi_row = wanted.get(key)
        if kpi_row is None:
            problems.append(
                error(
                    sheet,
                    cell,
                    code,
                    f"{code} is not in this contract's performance framework for the quarter, so this row "
                    f"cannot be read: the framework has changed since the template was made. {DOWNLOAD_AGAIN}",
                )
            )
            continue
        if key in result.cells:
            problems.append(
                error(sheet, cell, code, f"This row appears twice on the {sheet} sheet. {DOWNLOAD_AGAIN}")
            )
            continue
        result.cells[key] = cell
        reading = read_number(row.get("value"), row.number_format("value"))
        formula = formula_at(cell) if reading.problem == Problem.BLANK else None
        number, problem = _judge(reading, kpi_row, formula)
        if problem:
            problems.append(error(sheet, cell, code, problem))
        elif number is not None:
            result.values[key] = number
            if _maybe_a_fraction(reading, kpi_row.unit):
                problems.append(warning(sheet, cell, code, _did_you_mean(reading)))
    for key, kpi_row in wanted.items():
        if key not in result.cells:
            problems.append(
                error(
                    sheet,
                    "",
                    kpi_row.kpi.code,
                    f"The row for {_subject(kpi_row)} is missing from the {sheet} sheet. {DOWNLOAD_AGAIN}",
                )
            )
    return result, problems


def _subject(kpi_row: KpiRow) -> str:
    label = lower_first(kpi_row.label)
    return (
        label if kpi_row.line != Line.BREAKDOWN else f"{lower_first(kpi_row.kpi.name)} ({kpi_row.breakdown})"
    )


def _maybe_a_fraction(reading: Reading, unit: str) -> bool:
    """0.85 typed into a percentage cell formatted as General: 0.85%, or 85% meant?"""
    number = reading.number
    return unit == Unit.PERCENTAGE and not reading.percent and number is not None and 0 < number <= 1


def _did_you_mean(reading: Reading) -> str:
    assert reading.number is not None
    meant = f"{(reading.number * 100).normalize():f}"
    return (
        f"{reading.shown} in this percentage cell is read as {reading.shown}%. Did you mean {meant}%? "
        f"If so, type {meant} here. If {reading.shown}% is right, confirm it when you submit."
    )


def _judge(
    reading: Reading, kpi_row: KpiRow, formula: str | None = None
) -> tuple[Decimal | None, str | None]:
    """The figure, or what is wrong with it and how to put it right. `formula` is the
    formula in a cell that reads as blank, if it has one."""
    if formula:
        return None, FORMULA_WITHOUT_RESULT.format(formula=formula)
    unit = kpi_row.unit
    problem = _what_is_wrong(reading, unit)
    if problem is not None:
        ask = f"Enter {kpi_row.describe()}."
        if unit == Unit.COUNT:
            ask += " Enter 0 if there were none."
        return None, f"{problem} {ask}"
    number = reading.number
    assert number is not None
    if unit != Unit.COUNT:
        number = round_half_up(number, CENT)
    return number, None


def _what_is_wrong(reading: Reading, unit: str) -> str | None:
    if reading.problem == Problem.BLANK:
        return BLANK
    if reading.problem == Problem.DATE:
        return NOT_A_DATE_FIGURE
    number = reading.number
    if reading.problem or number is None:
        return not_a_number(reading.shown)
    if reading.percent and unit != Unit.PERCENTAGE:
        return f"'{reading.shown}' is a percentage, but this is not."
    if number < 0:
        return below_zero(reading.shown)
    if unit == Unit.COUNT and not is_whole(number):
        return not_whole(reading.shown)
    if unit == Unit.PERCENTAGE and number > 100:
        return f"{reading.shown} is more than 100%."
    if number > LARGEST_FIGURE:
        return f"{reading.shown} is far larger than any figure for one quarter."
    return None


OUTCOME_KEYS = ("measure", "informant", "pre_score", "post_score")
SCORE_NAMES = {"pre_score": "score at the start of support", "post_score": "score at case closure"}


def check_outcomes(
    found: FoundTable, layout: TemplateLayout, formula_at: FormulaAt = no_formulas
) -> tuple[list[OutcomeRow], list[Message]]:
    """Each filled row's measure, informant and scores; ranges by measure are a cross-check."""
    measures = {m.lower(): m for m in layout.measures}
    informants = {i.lower(): i for i in layout.informants}
    outcomes: list[OutcomeRow] = []
    problems: list[Message] = []
    for row in found.rows:
        if row.is_blank(OUTCOME_KEYS):
            continue
        measure = _choice(row, "measure", measures, problems, "Choose the measure: SDQ, WEMWBS or SWEMWBS.")
        # Whether an informant is wanted depends on the measure: a cross-check.
        informant_text = row.text("informant")
        informant = informants.get(informant_text.lower())
        scores = {key: _score(row, key, problems, formula_at) for key in ("pre_score", "post_score")}
        outcomes.append(
            OutcomeRow(row, measure, informant, informant_text, scores["pre_score"], scores["post_score"])
        )
    return outcomes, problems


def _choice(
    row: TableRow, key: str, allowed: dict[str, str], problems: list[Message], ask: str
) -> str | None:
    text = row.text(key)
    if not text:
        problems.append(
            error(row.sheet, row.cell(key), "", f"This row is filled in but has no measure. {ask}")
        )
        return None
    chosen = allowed.get(text.lower())
    if chosen is None:
        problems.append(error(row.sheet, row.cell(key), "", f"'{text}' is not one of the choices. {ask}"))
    return chosen


def _score(row: TableRow, key: str, problems: list[Message], formula_at: FormulaAt) -> Decimal | None:
    reading = read_number(row.get(key))
    ask = f"Enter the {SCORE_NAMES[key]} as a whole number, like 17."
    problem = None
    formula = formula_at(row.cell(key)) if reading.problem == Problem.BLANK else None
    if formula:
        problem = FORMULA_WITHOUT_RESULT.format(formula=formula)
    elif reading.problem == Problem.BLANK:
        problem = f"{BLANK} {ask} Every row needs both scores."
    elif reading.problem == Problem.DATE:
        problem = f"{NOT_A_DATE_FIGURE} {ask}"
    elif reading.problem or reading.number is None:
        problem = f"{not_a_number(reading.shown)} {ask}"
    elif reading.percent:
        problem = f"'{reading.shown}' is a percentage, but a score is not. {ask}"
    elif reading.number < 0:
        problem = f"{below_zero(reading.shown)} {ask}"
    elif not is_whole(reading.number):
        problem = f"{not_whole(reading.shown)} {ask}"
    if problem:
        problems.append(error(row.sheet, row.cell(key), "", problem))
        return None
    return reading.number


def read_commentary(found: FoundTable, codes: set[str]) -> Commentary:
    commentary = Commentary()
    for row in found.rows:
        code = row.text("kpi_code")
        if code not in codes or code in commentary.cells:
            continue
        commentary.cells[code] = row.cell("explanation")
        text = row.text("explanation")
        if text:
            commentary.texts[code] = text
    return commentary
