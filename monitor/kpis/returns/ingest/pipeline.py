"""Checking a return workbook, stage by stage:

    file      a real, safe .xlsx (size, zip bomb, macros, password, damage)
    identity  our template (its hidden metadata signed by this service), a known
              version, this contract and quarter (sheet titles agreeing), this user
    cells     each figure present, a number of the right kind and in range
    cross     parts add up, counts not above what they are part of, scores in range
    transform the figures to store, percentages worked out
    period    against target and last quarter, with commentary

The check stops after the file or identity stage fails: later stages would
only add noise. Messages come back in the order Excel lists cells.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from monitor.auth.models import User
from monitor.contracts.models import Contract
from monitor.kpis.framework.history import items_in_force
from monitor.kpis.models import FrameworkItem
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.ingest import cells, cross, file, identity, period, transform
from monitor.kpis.returns.ingest.annotate import annotate_workbook
from monitor.kpis.returns.ingest.messages import error, has_errors, sort_messages
from monitor.kpis.returns.ingest.result import CheckedReturn, Message
from monitor.kpis.returns.ingest.settings import FileLimits, setting
from monitor.kpis.returns.ingest.tables import read_table
from monitor.kpis.returns.template.layout import CURRENT_LAYOUT, LAYOUTS, Line
from monitor.kpis.returns.template.previous import previous_figures
from monitor.kpis.returns.template.rows import has_outcome_kpis, kpi_rows
from monitor.kpis.returns.template.signature import signing_key
from monitor.kpis.vocabulary import Unit

__all__ = ["annotate_workbook", "check_workbook", "peek_identity"]


def check_workbook(
    session: Session,
    content: bytes,
    filename: str,
    *,
    contract: Contract,
    quarter: Quarter | str,
    user: User | None,
    settings: Any,
    items: list[FrameworkItem] | None = None,
) -> CheckedReturn:
    """Every problem with `content` as `contract`'s return for `quarter`, and the
    figures, commentary and outcome scores it holds.

    `user` is who is uploading (None: an operator, not limited by permissions);
    `settings` is the app config (a mapping) or a config object; `items` the
    framework in force for the quarter, when the caller has already looked it
    up (as SubmitReturn has, to hand to storing)."""
    target = quarter if isinstance(quarter, Quarter) else Quarter.parse(quarter)
    if target is None:
        raise ValueError(f"not a quarter: {quarter!r}")
    result = CheckedReturn(contract_id=contract.id, period=str(target))
    messages: list[Message] = []
    sheet_order: list[str] = list(CURRENT_LAYOUT.sheet_order)
    opened, found = file.open_workbook(content, filename, FileLimits.from_settings(settings))
    messages += found
    if opened is not None:
        with opened:
            sheet_order = opened.sheet_names
            _check_opened(session, opened, result, messages, contract, target, user, settings, items)
    # The same message twice (a damaged part met by two stages) would only be noise.
    result.messages = sort_messages(dict.fromkeys(messages), sheet_order)
    return result


def _check_opened(
    session: Session,
    opened: file.OpenedWorkbook,
    result: CheckedReturn,
    messages: list[Message],
    contract: Contract,
    quarter: Quarter,
    user: User | None,
    settings: Any,
    items: list[FrameworkItem] | None,
) -> None:
    book = opened.book
    who, found = identity.read_identity(book)
    messages += found
    if who is None or has_errors(found):
        return
    found = identity.check_signature(who, signing_key(settings))
    messages += found
    if has_errors(found):
        return
    result.template_version = who.template_version
    # Read only to name it, and only to someone who may see it (see check_identity).
    theirs = session.get(Contract, who.contract_id) if who.contract_id != contract.id else None
    found = identity.check_identity(who, contract=contract, quarter=quarter, user=user, theirs=theirs)
    messages += found
    if has_errors(found):
        return
    layout = LAYOUTS[who.template_version]
    if items is None:
        items = items_in_force(session, contract.id, quarter)
    if not items:
        messages.append(
            error(
                "",
                "",
                "",
                f"{contract.reference} has no KPIs in force in {quarter.label}, so there is nothing to check "
                "against. Ask the commissioner to set up the performance framework.",
            )
        )
        return
    rows = kpi_rows(items)
    codes = {item.kpi.code for item in items}

    # Number formats are only wanted to read 85% typed into a percentage cell; they cost a little to read.
    percentages = any(row.unit == Unit.PERCENTAGE and row.line in Line.INPUTS for row in rows)
    kpi_table, found = read_table(book, layout.kpis, with_formats=percentages)
    messages += found
    # The template has an Outcomes sheet only when the framework has KPIs worked out from it.
    outcome_table = None
    if has_outcome_kpis(rows):
        outcome_table, found = read_table(book, layout.outcomes)
        messages += found
    commentary_table, found = read_table(book, layout.commentary)
    messages += found
    for table in (kpi_table, outcome_table, commentary_table):
        if table is not None:
            messages += identity.check_title(table, quarter)

    kpi_cells = cells.KpiCells()
    if kpi_table is not None:
        kpi_sheet = layout.kpis.sheet
        kpi_cells, found = cells.check_kpis(kpi_table, rows, lambda cell: opened.formula(kpi_sheet, cell))
        messages += found
        messages += cross.check_kpis(kpi_cells, layout.kpis.sheet, rows)
    if outcome_table is not None:
        outcome_sheet = layout.outcomes.sheet
        outcomes, found = cells.check_outcomes(
            outcome_table, layout, lambda cell: opened.formula(outcome_sheet, cell)
        )
        messages += found
        messages += cross.check_outcomes(outcomes, layout.outcomes.sheet)
        result.outcomes = transform.build_outcomes(outcomes)
    commentary = cells.Commentary()
    if commentary_table is not None:
        commentary = cells.read_commentary(commentary_table, codes)
        result.commentary = dict(commentary.texts)
    result.figures, found = transform.build_figures(kpi_cells, layout.kpis.sheet, rows)
    messages += found
    if kpi_table is not None and commentary_table is not None:
        messages += period.check_period(
            result.figures,
            items,
            previous_figures(session, contract.id, quarter),
            commentary,
            layout.commentary.sheet,
            int(setting(settings, "PERIOD_CHANGE_WARNING_PCT")),
            contract,
            quarter,
        )


def peek_identity(
    content: bytes, filename: str, *, settings: Any
) -> tuple[identity.Identity | None, list[Message]]:
    """What the workbook says it is (contract id, reference, quarter, template
    version), for callers that do not know the target yet, like `flask returns check`."""
    opened, found = file.open_workbook(content, filename, FileLimits.from_settings(settings))
    if opened is None:
        return None, found
    with opened:
        who, found = identity.read_identity(opened.book)
    return (who if not has_errors(found) else None), found
