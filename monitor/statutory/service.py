"""The statutory safe-accommodation return for one authority and reporting year:
which contracts count (the one write), and the return compiled from their
accepted quarterly returns (the read every page and download shares).

Figures come from each return's latest submitted version, and only while the
return is accepted: a return awaiting review, queried or not sent is listed
as a source the return is waiting for, never counted. A contract's year
figure for a KPI follows the KPI's rollup (`monitor.statutory.rollup`); the
authority's figure adds its contracts' year figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, selectinload

from monitor.access.rules import can_compile_return
from monitor.auth.models import Organisation, OrganisationKind, User
from monitor.contracts.models import Contract
from monitor.contracts.periods import FINANCIAL_YEAR_HINT, financial_year_bounds, parse_financial_year
from monitor.errors import Forbidden, ValidationFailed
from monitor.formatting import count_text, format_figure, list_text
from monitor.kpis.models import Kpi, Return, ReturnValue, ReturnVersion, latest_submitted
from monitor.kpis.periods import Quarter
from monitor.kpis.vocabulary import ReturnState, Rollup, Unit
from monitor.statutory.definition import (
    DEFINITIONS_FOLDER,
    Definition,
    EvaluatedCategory,
    EvaluatedQuestion,
    EvaluatedReturn,
    Formula,
    KpiLibrary,
    evaluate,
    load_definitions,
)
from monitor.statutory.models import SafeAccommodationContract
from monitor.statutory.rollup import year_figure

QUARTER_NUMBERS = (1, 2, 3, 4)


# ---------------------------------------------------------------- years and definitions


def kpi_library(session: Session) -> dict[str, tuple[str, ...]]:
    """KPI code -> its breakdown labels, from the Kpi table, for the definitions' checks."""
    kpis = session.scalars(select(Kpi).options(selectinload(Kpi.breakdowns))).all()
    return {kpi.code: tuple(part.label for part in kpi.breakdowns) for kpi in kpis}


def definitions(library: KpiLibrary) -> dict[str, Definition]:
    """Every shipped year's definition, keyed by reporting year ("2013/14") in year order."""
    return load_definitions(DEFINITIONS_FOLDER, library)


def definition_for(financial_year: str, library: KpiLibrary) -> Definition:
    """The year's definition, or ValidationFailed naming the years that have one."""
    known = definitions(library)
    if financial_year in known:
        return known[financial_year]
    years = list_text(list(known)) if known else "none"
    raise ValidationFailed(
        {
            "year": f"There is no statutory return definition for {financial_year}; "
            f"the years with one are {years}. Choose one of those years, or add "
            f"{financial_year.replace('/', '-')}.toml to monitor/statutory/definitions"
        }
    )


def year_from_url(text: str) -> str | None:
    """2013/14 from the 2013-14 written in addresses; None when it is not a financial year."""
    return parse_financial_year(text.replace("-", "/", 1)) if "/" not in text else None


def year_in_url(financial_year: str) -> str:
    return financial_year.replace("/", "-")


# ---------------------------------------------------------------- which contracts count


def authorities(session: Session) -> list[Organisation]:
    """Commissioning organisations that lead at least one contract, by name (the admin's choice)."""
    return list(
        session.scalars(
            select(Organisation)
            .where(
                Organisation.kind == OrganisationKind.COMMISSIONER.value,
                Organisation.id.in_(select(Contract.lead_commissioner_id)),
            )
            .order_by(Organisation.name)
        ).all()
    )


def live_contracts(session: Session, authority_id: int, financial_year: str) -> list[Contract]:
    """The authority's contracts (it is the lead commissioner) live at some point in the year."""
    first_day, last_day = financial_year_bounds(financial_year)
    return list(
        session.scalars(
            select(Contract)
            .where(
                Contract.lead_commissioner_id == authority_id,
                Contract.start_date <= last_day,
                Contract.end_date >= first_day,
            )
            .options(selectinload(Contract.provider))
            .order_by(Contract.reference)
        ).all()
    )


def flagged_contracts(session: Session, authority_id: int, financial_year: str) -> list[Contract]:
    """The authority's contracts counted as relevant safe accommodation for the year, by reference."""
    return list(
        session.scalars(
            select(Contract)
            .join(SafeAccommodationContract, SafeAccommodationContract.contract_id == Contract.id)
            .where(
                Contract.lead_commissioner_id == authority_id,
                SafeAccommodationContract.financial_year == financial_year,
            )
            .options(selectinload(Contract.provider))
            .order_by(Contract.reference)
        ).all()
    )


def years_with_flags(session: Session, authority_id: int) -> list[str]:
    """The years for which the authority has flagged at least one contract, in order."""
    return sorted(
        session.scalars(
            select(SafeAccommodationContract.financial_year)
            .join(Contract, Contract.id == SafeAccommodationContract.contract_id)
            .where(Contract.lead_commissioner_id == authority_id)
            .distinct()
        ).all()
    )


def set_contracts(
    session: Session, user: User, authority_id: int, financial_year: str, contract_ids: Iterable[int]
) -> list[Contract]:
    """Replace the contracts counted for the authority and year with `contract_ids`.

    Checks everything first and raises one ValidationFailed (or Forbidden)
    before changing anything; the caller's transaction commits. The model's
    audit records each flag added and removed."""
    if not can_compile_return(user, authority_id):
        raise Forbidden("Only the authority's commissioners choose which contracts count")
    year = parse_financial_year(financial_year)
    if year is None:
        raise ValidationFailed({"year": f"'{financial_year}' is not a financial year. {FINANCIAL_YEAR_HINT}"})
    chosen = list(dict.fromkeys(contract_ids))
    live = {contract.id: contract for contract in live_contracts(session, authority_id, year)}
    not_allowed = [contract_id for contract_id in chosen if contract_id not in live]
    if not_allowed:
        references = dict(
            session.execute(select(Contract.id, Contract.reference).where(Contract.id.in_(not_allowed))).all()
        )
        named = list_text(
            [references.get(contract_id, f"contract {contract_id}") for contract_id in not_allowed]
        )
        raise ValidationFailed(
            {
                "contracts": f"{named} cannot count towards this return: only contracts your authority leads "
                f"that were live at some point in {year} (1 April to 31 March) can. Choose from the list"
            }
        )
    existing = {
        flag.contract_id: flag
        for flag in session.scalars(
            select(SafeAccommodationContract).where(
                SafeAccommodationContract.financial_year == year,
                SafeAccommodationContract.contract_id.in_(
                    select(Contract.id).where(Contract.lead_commissioner_id == authority_id)
                ),
            )
        ).all()
    }
    for contract_id, flag in existing.items():
        if contract_id not in chosen:
            session.delete(flag)
    for contract_id in chosen:
        if contract_id not in existing:
            session.add(
                SafeAccommodationContract(
                    contract_id=contract_id,
                    contract=live[contract_id],
                    financial_year=year,
                    flagged_by_id=user.id,
                )
            )
    session.flush()
    return [live[contract_id] for contract_id in sorted(chosen, key=lambda c: live[c].reference)]


# ---------------------------------------------------------------- the sources


class SourceStatus(StrEnum):
    ACCEPTED = "Accepted"
    AWAITING_REVIEW = "Awaiting review"
    QUERIED = "Queried"
    NOT_SENT = "Not sent"
    NOT_DUE = "Not due yet"


WAITING_STATES = {
    ReturnState.SUBMITTED.value: SourceStatus.AWAITING_REVIEW,
    ReturnState.RESUBMITTED.value: SourceStatus.AWAITING_REVIEW,
    ReturnState.QUERIED.value: SourceStatus.QUERIED,
}


@dataclass(frozen=True)
class QuarterSource:
    """One flagged contract's return for one quarter of the year, and whether it counts."""

    contract: Contract
    quarter: Quarter
    status: SourceStatus
    # The return's state as stored ("submitted", "queried"...), None when there is no return.
    state: str | None

    @property
    def period(self) -> str:
        return str(self.quarter)

    @property
    def counted(self) -> bool:
        return self.status == SourceStatus.ACCEPTED

    @property
    def outstanding(self) -> bool:
        """Due or sent but not accepted: the return is waiting for it."""
        return self.status in (SourceStatus.AWAITING_REVIEW, SourceStatus.QUERIED, SourceStatus.NOT_SENT)


def _left_out(outstanding: Sequence[QuarterSource]) -> str:
    """'1 awaiting review and 1 not sent': the returns a figure waits for, by status."""
    counts = Counter(source.status for source in outstanding)
    return list_text([f"{n} {status.value.lower()}" for status, n in counts.items()])


@dataclass(frozen=True)
class ContractSources:
    contract: Contract
    quarters: tuple[QuarterSource, ...]

    @property
    def outstanding(self) -> tuple[QuarterSource, ...]:
        return tuple(source for source in self.quarters if source.outstanding)


def _quarters_live(contract: Contract, financial_year: str) -> list[Quarter]:
    start = int(financial_year[:4])
    return [
        quarter
        for quarter in (Quarter(start, number) for number in QUARTER_NUMBERS)
        if contract.start_date <= quarter.end and contract.end_date >= quarter.start
    ]


def _sources(
    session: Session, contracts: Sequence[Contract], financial_year: str, today: date
) -> list[ContractSources]:
    periods = [str(Quarter(int(financial_year[:4]), number)) for number in QUARTER_NUMBERS]
    states: dict[tuple[int, str], str] = {}
    if contracts:
        rows = session.execute(
            select(Return.contract_id, Return.period, Return.state).where(
                Return.contract_id.in_([contract.id for contract in contracts]), Return.period.in_(periods)
            )
        )
        states = {(contract_id, period): state for contract_id, period, state in rows}
    found: list[ContractSources] = []
    for contract in contracts:
        quarters: list[QuarterSource] = []
        for quarter in _quarters_live(contract, financial_year):
            state = states.get((contract.id, str(quarter)))
            if state == ReturnState.ACCEPTED.value:
                status = SourceStatus.ACCEPTED
            elif state in WAITING_STATES:
                status = WAITING_STATES[state]
            else:
                # Not started or a draft: nothing sent. A quarter still running cannot be late.
                status = SourceStatus.NOT_DUE if quarter.end >= today else SourceStatus.NOT_SENT
            quarters.append(QuarterSource(contract, quarter, status, state))
        found.append(ContractSources(contract, tuple(quarters)))
    return found


@dataclass(frozen=True)
class _Reported:
    """Every figure in the latest submitted version of the flagged contracts' returns for the year."""

    # (contract id, code, breakdown label or '' for the total) -> {quarter number: value}, accepted only
    accepted: dict[tuple[int, str, str], dict[int, Decimal]]
    # (code, breakdown) -> contracts whose returns (accepted or not) report it
    reporters: dict[tuple[str, str], set[int]]


def _reported(session: Session, contract_ids: Sequence[int], financial_year: str) -> _Reported:
    accepted: dict[tuple[int, str, str], dict[int, Decimal]] = {}
    reporters: dict[tuple[str, str], set[int]] = {}
    if not contract_ids:
        return _Reported(accepted, reporters)
    periods = {str(Quarter(int(financial_year[:4]), number)): number for number in QUARTER_NUMBERS}
    return_ids = list(
        session.scalars(
            select(Return.id).where(
                Return.contract_id.in_(list(contract_ids)), Return.period.in_(list(periods))
            )
        )
    )
    if not return_ids:
        return _Reported(accepted, reporters)
    latest = latest_submitted()
    query = (
        select(
            Return.contract_id,
            Return.period,
            Return.state,
            Kpi.code,
            ReturnValue.breakdown,
            ReturnValue.value,
        )
        .join(latest, latest.c.return_id == Return.id)
        .join(
            ReturnVersion, and_(ReturnVersion.return_id == Return.id, ReturnVersion.number == latest.c.number)
        )
        .join(ReturnValue, ReturnValue.version_id == ReturnVersion.id)
        .join(Kpi, Kpi.id == ReturnValue.kpi_id)
        # The ids named on the grouped subquery too, so the database picks out
        # these returns' versions before grouping rather than finding every
        # return's latest version (at national scale, 40 ms of a 50 ms compile).
        .where(Return.id.in_(return_ids), latest.c.return_id.in_(return_ids))
    )
    for contract_id, period, state, code, breakdown, value in session.execute(query):
        reporters.setdefault((code, breakdown), set()).add(contract_id)
        if state == ReturnState.ACCEPTED.value:
            accepted.setdefault((contract_id, code, breakdown), {})[periods[period]] = value
    return _Reported(accepted, reporters)


# ---------------------------------------------------------------- the compiled return


@dataclass(frozen=True)
class ReturnRow:
    """One line of the return as the page, the spreadsheet and the CSV show it."""

    number: str
    question: str
    category: str
    value: float | None
    mandatory: bool
    notes: str
    # The flagged contracts whose returns report this line's figures.
    contracts: tuple[Contract, ...]
    is_total: bool = False

    @property
    def figure_text(self) -> str:
        return format_figure(self.value, Unit.COUNT.value)


@dataclass(frozen=True)
class CompiledQuestion:
    evaluated: EvaluatedQuestion
    rows: tuple[ReturnRow, ...]
    adds_up: bool | None
    incomplete_mandatory: bool
    # Human sentences for the flags shown above the question's table.
    problems: tuple[str, ...]


@dataclass(frozen=True)
class CompiledReturn:
    authority: Organisation
    financial_year: str
    definition: Definition
    evaluated: EvaluatedReturn
    contracts: tuple[Contract, ...]
    sources: tuple[ContractSources, ...]
    questions: tuple[CompiledQuestion, ...]

    @property
    def quarters(self) -> tuple[QuarterSource, ...]:
        return tuple(source for contract in self.sources for source in contract.quarters)

    def count(self, *statuses: SourceStatus) -> int:
        return sum(1 for source in self.quarters if source.status in statuses)

    @property
    def accepted_count(self) -> int:
        return self.count(SourceStatus.ACCEPTED)

    @property
    def waiting_count(self) -> int:
        return self.count(SourceStatus.AWAITING_REVIEW, SourceStatus.QUERIED)

    @property
    def not_sent_count(self) -> int:
        return self.count(SourceStatus.NOT_SENT)

    @property
    def not_due_count(self) -> int:
        return self.count(SourceStatus.NOT_DUE)

    @property
    def rows(self) -> tuple[ReturnRow, ...]:
        return tuple(row for question in self.questions for row in question.rows)


@dataclass(frozen=True)
class _Inputs:
    """What every line of the return is worked out from."""

    reported: _Reported
    contracts: Sequence[Contract]
    sources: Mapping[int, ContractSources]
    rollups: Mapping[str, str]

    def feeding(self, formula: Formula) -> tuple[Contract, ...]:
        """The flagged contracts whose returns (accepted or not) report any of the formula's figures."""
        ids: set[int] = set()
        for term in formula.terms:
            ids |= self.reported.reporters.get((term.code, term.part or ""), set())
        return tuple(contract for contract in self.contracts if contract.id in ids)

    def accepted_without(self, formula: Formula, feeding: Sequence[Contract]) -> int:
        """Accepted returns of the feeding contracts that did not report the formula's
        figures (a KPI added to the framework mid-year): a summed or averaged year
        figure covers fewer quarters than accepted. A stock ("latest") is not affected."""
        if all(self.rollups.get(term.code) == Rollup.LATEST for term in formula.terms):
            return 0
        count = 0
        for contract in feeding:
            for source in self.sources[contract.id].quarters:
                reported = all(
                    source.quarter.number
                    in self.reported.accepted.get((contract.id, term.code, term.part or ""), {})
                    for term in formula.terms
                )
                if source.counted and not reported:
                    count += 1
        return count

    def notes(self, value: float | None, formula: Formula, feeding: Sequence[Contract]) -> str:
        pool = [self.sources[contract.id] for contract in feeding] or list(self.sources.values())
        outstanding = [source for contract in pool for source in contract.outstanding]
        if value is None:
            if outstanding:
                return f"Not available: no return is accepted yet ({_left_out(outstanding)})"
            return "Not available: no accepted return reports this figure"
        notes: list[str] = []
        if outstanding:
            notes.append(f"From accepted returns only; left out: {_left_out(outstanding)}")
        without = self.accepted_without(formula, feeding)
        if without:
            notes.append(
                f"{count_text(without, 'accepted return')} did not report this figure, "
                "so the year's figure covers fewer quarters"
            )
        return ". ".join(notes)


def _category_row(question: EvaluatedQuestion, category: EvaluatedCategory, inputs: _Inputs) -> ReturnRow:
    formula = category.category.formula
    feeding = inputs.feeding(formula)
    return ReturnRow(
        number=question.question.number,
        question=question.question.text,
        category=category.name,
        value=category.value,
        mandatory=question.question.mandatory,
        notes=inputs.notes(category.value, formula, feeding),
        contracts=feeding,
    )


def _compile_question(question: EvaluatedQuestion, inputs: _Inputs) -> CompiledQuestion:
    rows = [_category_row(question, category, inputs) for category in question.categories]
    problems: list[str] = []
    if question.total is not None:
        feeding = inputs.feeding(question.total.formula)
        notes = inputs.notes(question.total.value, question.total.formula, feeding)
        if question.adds_up is False and question.difference is not None:
            mismatch = (
                f"The categories add up to {format_figure(question.categories_sum, Unit.COUNT.value)}, "
                f"not the total of {format_figure(question.total.value, Unit.COUNT.value)}"
            )
            problems.append(f"{mismatch}: check the providers' breakdowns before sending the return.")
            notes = f"{notes}. {mismatch}" if notes else mismatch
        rows.append(
            ReturnRow(
                number=question.question.number,
                question=question.question.text,
                category="Total",
                value=question.total.value,
                mandatory=question.question.mandatory,
                notes=notes,
                contracts=feeding,
                is_total=True,
            )
        )
    incomplete = question.question.mandatory and not question.complete
    if incomplete:
        problems.append(
            "This question must be answered, and some of its figures are not available yet: "
            "accept the returns it is waiting for."
        )
    return CompiledQuestion(question, tuple(rows), question.adds_up, incomplete, tuple(problems))


# (contract id, KPI code, breakdown label or '' for the total) -> {quarter number: accepted value}
AcceptedFigures = Mapping[tuple[int, str, str], Mapping[int, Decimal]]


def evaluate_figures(
    definition: Definition, rollups: Mapping[str, str], accepted: AcceptedFigures, contract_ids: Sequence[int]
) -> EvaluatedReturn:
    """The definition's answers from accepted quarterly figures: each contract's
    year figure by its KPI's rollup, added up over the contracts. The one home
    of this rule, for the app's figures and the warehouse's alike
    (monitor.statutory.reconcile)."""

    def figure(code: str, part: str | None) -> float | None:
        years = [
            # No accepted quarters give None before the rollup is read, so a KPI
            # nobody reported needs no rollup.
            year_figure(rollups.get(code, ""), accepted.get((contract_id, code, part or ""), {}))
            for contract_id in contract_ids
        ]
        known = [value for value in years if value is not None]
        return float(sum(known, Decimal(0))) if known else None

    return evaluate(definition, figure)


def compile_return(
    session: Session, authority_id: int, financial_year: str, library: KpiLibrary, today: date
) -> CompiledReturn:
    """The year's return for the authority from its flagged contracts' accepted returns.

    Raises ValidationFailed when the year has no definition (naming the years
    that have one)."""
    definition = definition_for(financial_year, library)
    authority = session.get(Organisation, authority_id)
    if authority is None:
        raise ValidationFailed({"authority": f"There is no organisation {authority_id}; choose an authority"})
    contracts = flagged_contracts(session, authority_id, financial_year)
    sources = _sources(session, contracts, financial_year, today)
    by_contract = {contract_sources.contract.id: contract_sources for contract_sources in sources}
    reported = _reported(session, [contract.id for contract in contracts], financial_year)
    rollups = {code: rollup for code, rollup in session.execute(select(Kpi.code, Kpi.rollup))}
    evaluated = evaluate_figures(
        definition, rollups, reported.accepted, [contract.id for contract in contracts]
    )
    inputs = _Inputs(reported, contracts, by_contract, rollups)
    questions = tuple(_compile_question(question, inputs) for question in evaluated.questions)
    return CompiledReturn(
        authority=authority,
        financial_year=financial_year,
        definition=definition,
        evaluated=evaluated,
        contracts=tuple(contracts),
        sources=tuple(sources),
        questions=questions,
    )
