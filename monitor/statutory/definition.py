"""Each reporting year's statutory safe-accommodation return, as data: the
format, its loader and validator, and the evaluator that fills it in.

Since Part 4 of the Domestic Abuse Act 2021 every Tier 1 authority in England
sends MHCLG an annual return on support in relevant safe accommodation. The
questions change from year to year, so each year's return is a TOML file in
``definitions/`` named after its reporting year (``2024-25.toml``), and every
figure in it is a formula over the KPI library:

    SA-SUPPORTED[Women]                           one part of a KPI
    SA-SUPPORTED                                  a KPI's total
    REF-NOT-TAKEN[No space] + REF-NOT-TAKEN[Other]
    SA-SUPPORTED - SA-SUPPORTED[Children]

Terms are joined by ``+`` and ``-``; spaces are free, except that a minus
straight after a code needs a space before it (codes contain hyphens, so
``A-B`` is read as the code A-B). Nothing else is allowed (no numbers, no
brackets), so every formula can be checked against the library.

To add a new year: copy last year's file to the new year's name (say
``2025-26.toml``), set ``reporting_year``, ``title``, ``published`` and
``source`` for that year, and change the questions to match the new
collection. Leave ``version`` at 1: it counts corrections to one year's
definition, so bump it only when you correct a file already in use. The
loader checks everything (keys, types, the year against the file name,
question numbers, every KPI code and part), and ``tests/statutory`` loads
every shipped file, so a mistake fails the tests with a message naming the
file, question and category.

Pure: no Flask, no database. Callers pass the KPI library as a mapping of
code to breakdown labels, and a function that gives the year's figures.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

DEFINITIONS_FOLDER = Path(__file__).parent / "definitions"
"""Where the shipped definitions live: pass it to `load_definitions`."""

KpiLibrary = Mapping[str, Sequence[str]]
"""KPI code -> its breakdown labels (empty for a KPI with no breakdowns)."""

FigureLookup = Callable[[str, str | None], float | None]
"""(KPI code, breakdown label or None for the total) -> the year's figure, or
None when there is no accepted figure."""


class Counted(StrEnum):
    INDIVIDUALS = "individuals"
    HOUSEHOLDS = "households"
    BEDSPACES = "bedspaces"


# ---------------------------------------------------------------- formulas


@dataclass(frozen=True)
class Term:
    """One KPI total (part None) or one part of it, added (sign 1) or subtracted (sign -1)."""

    sign: int
    code: str
    part: str | None = None

    def __str__(self) -> str:
        return self.code if self.part is None else f"{self.code}[{self.part}]"


@dataclass(frozen=True)
class Formula:
    terms: tuple[Term, ...]

    def __str__(self) -> str:
        text = ""
        for index, term in enumerate(self.terms):
            if index == 0:
                text = str(term) if term.sign > 0 else f"-{term}"
            else:
                text += f" {'+' if term.sign > 0 else '-'} {term}"
        return text

    @property
    def figures_needed(self) -> frozenset[tuple[str, str | None]]:
        """The (code, part) pairs this formula reads."""
        return frozenset((term.code, term.part) for term in self.terms)


class FormulaError(ValueError):
    """A formula that does not follow the grammar; the message says where and how to fix it."""


# Letters are allowed in either case so a lower-case code reaches the library
# check, which can say "write it in capitals" rather than a bare syntax error.
_CODE = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_GRAMMAR_HINT = "a formula is KPI codes and parts like SA-SUPPORTED[Women], joined by + and -"


def parse_formula(text: str) -> Formula:
    """Parse a formula, or raise FormulaError saying what is wrong, at which character, and how to fix it."""
    if not text.strip():
        raise FormulaError(
            "the formula is empty; write a KPI code like SA-SUPPORTED or a part like SA-SUPPORTED[Women]"
        )
    terms: list[Term] = []
    sign = 1
    operator = ""
    position = 0
    while True:
        position = _skip_spaces(text, position)
        if position == len(text):
            raise FormulaError(
                f"the formula '{text}' ends with '{operator}'; add a KPI code after it or remove it"
            )
        term, position = _parse_term(text, position, sign)
        terms.append(term)
        position = _skip_spaces(text, position)
        if position == len(text):
            return Formula(tuple(terms))
        operator = text[position]
        if operator not in "+-":
            raise FormulaError(_unexpected(text, position, "'+' or '-'"))
        sign = 1 if operator == "+" else -1
        position += 1


def _parse_term(text: str, position: int, sign: int) -> tuple[Term, int]:
    match = _CODE.match(text, position)
    if match is None:
        if text[position] == "[":
            raise FormulaError(
                f"the formula '{text}' has '[' at character {position + 1} with no KPI code before it; "
                "write a part as CODE[Breakdown label]"
            )
        raise FormulaError(_unexpected(text, position, "a KPI code"))
    code = match.group()
    if code.isdigit():
        raise FormulaError(
            f"the formula '{text}' has the number {code} at character {position + 1}; "
            f"numbers are not allowed: {_GRAMMAR_HINT}"
        )
    position = match.end()
    opening = _skip_spaces(text, position)
    if opening == len(text) or text[opening] != "[":
        return Term(sign, code), position
    closing = text.find("]", opening + 1)
    nested = text.find("[", opening + 1)
    if closing == -1 or -1 < nested < closing:
        raise FormulaError(
            f"the formula '{text}' opens '[' at character {opening + 1} and does not close it; "
            "write a part as CODE[Breakdown label], with one label between the brackets"
        )
    part = text[opening + 1 : closing].strip()
    if not part:
        raise FormulaError(
            f"the formula '{text}' has empty brackets after {code} at character {opening + 1}; "
            f"put a breakdown label between them, or remove them to use {code}'s total"
        )
    return Term(sign, code, part), closing + 1


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _unexpected(text: str, position: int, expected: str) -> str:
    found = text[position]
    where = f"the formula '{text}' has '{found}' at character {position + 1}, where {expected} should be"
    if found in "()":
        return f"{where}; brackets are not allowed: {_GRAMMAR_HINT}"
    if found in "*/×÷":
        return f"{where}; only adding and subtracting are allowed: {_GRAMMAR_HINT}"
    if found == "]":
        return f"{where}; a ']' closes a part, so it needs a '[' before it: {_GRAMMAR_HINT}"
    return f"{where}; {_GRAMMAR_HINT}"


# ---------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Category:
    name: str
    formula: Formula


@dataclass(frozen=True)
class Question:
    number: str
    text: str
    counted: Counted
    mandatory: bool
    categories: tuple[Category, ...]
    # When given, the categories must add up to it (the evaluator reports when they do not).
    total: Formula | None = None


@dataclass(frozen=True)
class Definition:
    reporting_year: str
    version: int
    title: str
    published: date
    source: str
    illustrative: bool
    notes: str | None
    questions: tuple[Question, ...]
    file_name: str

    def question(self, number: str) -> Question:
        for question in self.questions:
            if question.number == number:
                return question
        raise KeyError(f"{self.file_name} has no question {number}")

    @property
    def figures_needed(self) -> frozenset[tuple[str, str | None]]:
        """Every (code, part) pair the return reads, so a caller can fetch them in one query."""
        needed: set[tuple[str, str | None]] = set()
        for question in self.questions:
            if question.total is not None:
                needed |= question.total.figures_needed
            for category in question.categories:
                needed |= category.formula.figures_needed
        return frozenset(needed)


class DefinitionError(Exception):
    """Every problem found in one or more definition files, each a full sentence naming where it is."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def load_definition(path: str | os.PathLike[str], library: KpiLibrary) -> Definition:
    """Load and check one year's definition; raise DefinitionError listing every problem."""
    definition, problems, _ = _read(Path(path), library)
    if problems or definition is None:
        raise DefinitionError(problems)
    return definition


def load_definitions(folder: str | os.PathLike[str], library: KpiLibrary) -> dict[str, Definition]:
    """Load every ``*.toml`` in the folder, keyed by reporting year ("2024/25") in year order.

    Raises one DefinitionError with the problems of every file, and names both
    files when two define the same year.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DefinitionError(
            [f"{folder}: there is no folder here; pass the folder that holds the definitions"]
        )
    definitions: dict[str, Definition] = {}
    problems: list[str] = []
    files_by_year: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.toml")):
        definition, file_problems, declared_year = _read(path, library)
        problems.extend(file_problems)
        if declared_year is not None:
            files_by_year.setdefault(declared_year, []).append(path.name)
        if definition is not None and not file_problems:
            definitions[definition.reporting_year] = definition
    for year, names in files_by_year.items():
        if len(names) > 1:
            problems.append(
                f"{_and_list(names)} {'both' if len(names) == 2 else 'all'} define reporting year {year}; "
                f"keep one file per year, named {year.replace('/', '-')}.toml "
                "(a correction bumps version in that file)"
            )
    if problems:
        raise DefinitionError(problems)
    return dict(sorted(definitions.items()))


# ---------------------------------------------------------------- validation

_YEAR = re.compile(r"^(\d{4})/(\d{2})$")
_TOML_POSITION = re.compile(r"^(?P<reason>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")

_TOP_KEYS = (
    "reporting_year",
    "version",
    "title",
    "published",
    "source",
    "illustrative",
    "notes",
    "questions",
)
_QUESTION_KEYS = ("number", "text", "counted", "mandatory", "total", "categories")
_CATEGORY_KEYS = ("name", "formula")


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_true_or_false(value: Any) -> bool:
    return isinstance(value, bool)


def _is_date(value: Any) -> bool:
    # TOML's date-times load as datetime, a subclass of date; the published date is a day.
    return isinstance(value, date) and not isinstance(value, datetime)


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


@dataclass(frozen=True)
class _Kind:
    """What a key must hold, in words, with an example line to copy."""

    accepts: Callable[[Any], bool]
    description: str
    example: str


_TEXT = "text in double quotes"
_KINDS = {
    "reporting_year": _Kind(_is_text, _TEXT, 'reporting_year = "2024/25"'),
    "version": _Kind(_is_whole_number, "a whole number", "version = 1"),
    "title": _Kind(_is_text, _TEXT, 'title = "Support in domestic abuse safe accommodation, 2024/25"'),
    "published": _Kind(_is_date, "a date, without quotes", "published = 2025-04-01"),
    "source": _Kind(_is_text, _TEXT, 'source = "Follows MHCLG\'s annual data collection"'),
    "illustrative": _Kind(_is_true_or_false, "true or false", "illustrative = false"),
    "notes": _Kind(_is_text, _TEXT, 'notes = "Any notes about this year"'),
    "questions": _Kind(_is_tables, "a list of [[questions]] tables", "[[questions]]"),
    "number": _Kind(_is_text, _TEXT, 'number = "1"'),
    "text": _Kind(_is_text, _TEXT, 'text = "How many individuals were supported?"'),
    "counted": _Kind(_is_text, _TEXT, 'counted = "households"'),
    "mandatory": _Kind(_is_true_or_false, "true or false", "mandatory = true"),
    "total": _Kind(_is_text, _TEXT, 'total = "SA-SUPPORTED"'),
    "categories": _Kind(_is_tables, "a list of [[questions.categories]] tables", "[[questions.categories]]"),
    "name": _Kind(_is_text, _TEXT, 'name = "Women"'),
    "formula": _Kind(_is_text, _TEXT, 'formula = "SA-SUPPORTED[Women]"'),
}
_OPTIONAL = {"notes", "total"}


class _Checker:
    """Gathers every problem in one file, each prefixed with where it is."""

    def __init__(self, file_name: str, library: KpiLibrary) -> None:
        self.file_name = file_name
        self.library = library
        self.problems: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def value(self, table: Mapping[str, Any], key: str, where: str) -> Any:
        """The key's value when present and of the right kind, else None (with the problem noted)."""
        kind = _KINDS[key]
        if key not in table:
            if key not in _OPTIONAL:
                self.add(where, f"{key} is missing; add it, like {kind.example}")
            return None
        value = table[key]
        if not kind.accepts(value):
            self.add(where, f"{key} must be {kind.description}, like {kind.example}, not {_describe(value)}")
            return None
        if isinstance(value, str) and not value.strip():
            self.add(where, f"{key} is empty; fill it in, like {kind.example}")
            return None
        return value

    def unknown_keys(self, table: Mapping[str, Any], known: Sequence[str], where: str) -> None:
        for key in table:
            if key not in known:
                self.add(
                    where, f"{key} is not a key here; the keys are {', '.join(known)} (check the spelling)"
                )

    def formula(self, text: str, where: str) -> Formula | None:
        try:
            formula = parse_formula(text)
        except FormulaError as error:
            self.add(where, str(error))
            return None
        known = True
        for term in formula.terms:
            problem = _library_problem(term, self.library)
            if problem is not None:
                self.add(where, problem)
                known = False
        return formula if known else None


def _read(path: Path, library: KpiLibrary) -> tuple[Definition | None, list[str], str | None]:
    """The definition (None if it has problems), its problems, and the year it declares (if it is text)."""
    checker = _Checker(path.name, library)
    try:
        document = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return None, [f"{path}: there is no such file; check the path"], None
    except UnicodeDecodeError:
        return None, [f"{path.name}: the file is not UTF-8 text; save it as UTF-8"], None
    except tomllib.TOMLDecodeError as error:
        return None, [_syntax_problem(path.name, error)], None
    definition = _check_document(document, path, checker)
    declared = document.get("reporting_year")
    return definition, checker.problems, declared if isinstance(declared, str) else None


def _syntax_problem(file_name: str, error: tomllib.TOMLDecodeError) -> str:
    # Python 3.11's TOMLDecodeError has no line attribute; the position is in its message.
    fix = 'correct the syntax there (text goes in double quotes, like name = "Women")'
    message = str(error)
    match = _TOML_POSITION.match(message)
    if match is not None:
        return (
            f"{file_name}, line {match['line']}, column {match['column']}: "
            f"the file is not valid TOML ({match['reason']}); {fix}"
        )
    if message.endswith(" (at end of document)"):
        reason = message.removesuffix(" (at end of document)")
        return f"{file_name}, at the end of the file: the file is not valid TOML ({reason}); {fix}"
    return f"{file_name}: the file is not valid TOML ({message}); {fix}"


def _check_document(document: Mapping[str, Any], path: Path, checker: _Checker) -> Definition | None:
    where = path.name
    checker.unknown_keys(document, _TOP_KEYS, where)
    reporting_year = checker.value(document, "reporting_year", where)
    if reporting_year is not None:
        reporting_year = _check_year(reporting_year, path, checker)
    version = checker.value(document, "version", where)
    if version is not None and version < 1:
        checker.add(
            where, f"version is {version}; it must be 1 or more (1 for a new year, bumped for a correction)"
        )
        version = None
    title = checker.value(document, "title", where)
    published = checker.value(document, "published", where)
    source = checker.value(document, "source", where)
    illustrative = checker.value(document, "illustrative", where)
    notes = checker.value(document, "notes", where)
    questions = _check_questions(document, checker)
    if checker.problems:
        return None
    return Definition(
        reporting_year=reporting_year,
        version=version,
        title=title,
        published=published,
        source=source,
        illustrative=illustrative,
        notes=notes,
        questions=questions,
        file_name=path.name,
    )


def _check_year(reporting_year: str, path: Path, checker: _Checker) -> str | None:
    match = _YEAR.match(reporting_year)
    if match is None:
        checker.add(
            path.name, f'reporting_year "{reporting_year}" is not a reporting year; write it like "2024/25"'
        )
        return None
    first, second = int(match[1]), int(match[2])
    if (first + 1) % 100 != second:
        checker.add(
            path.name,
            f'reporting_year "{reporting_year}" is not two consecutive years; '
            f'write it like "{first}/{(first + 1) % 100:02d}"',
        )
        return None
    expected_name = f"{reporting_year.replace('/', '-')}.toml"
    if path.name != expected_name:
        checker.add(
            path.name,
            f'reporting_year is "{reporting_year}" but the file is named {path.name}; '
            f"rename the file to {expected_name} or correct reporting_year",
        )
        return None
    return reporting_year


def _check_questions(document: Mapping[str, Any], checker: _Checker) -> tuple[Question, ...]:
    where = checker.file_name
    tables = checker.value(document, "questions", where)
    if tables is None:
        return ()
    if not tables:
        checker.add(where, "there are no questions; add at least one [[questions]] table")
        return ()
    questions: list[Question] = []
    positions_by_number: dict[str, list[int]] = {}
    for position, table in enumerate(tables, start=1):
        number = table.get("number")
        if isinstance(number, str) and number.strip():
            positions_by_number.setdefault(number, []).append(position)
        question = _check_question(table, position, checker)
        if question is not None:
            questions.append(question)
    for number, positions in positions_by_number.items():
        if len(positions) > 1:
            checker.add(
                f"{where}, question {number}",
                f"{len(positions)} questions have this number (the {_and_list(map(_ordinal, positions))} "
                "[[questions]] tables); give each question its own number",
            )
    return tuple(questions)


def _check_question(table: Mapping[str, Any], position: int, checker: _Checker) -> Question | None:
    number = table.get("number")
    # A question with no usable number can only be pointed at by its place in the file.
    named = isinstance(number, str) and number.strip()
    where = (
        f"{checker.file_name}, question {number}"
        if named
        else f"{checker.file_name}, the {_ordinal(position)} question"
    )
    before = len(checker.problems)
    checker.unknown_keys(table, _QUESTION_KEYS, where)
    number = checker.value(table, "number", where)
    text = checker.value(table, "text", where)
    counted = checker.value(table, "counted", where)
    if counted is not None and counted not in {word.value for word in Counted}:
        checker.add(where, f'counted is "{counted}"; it must be "individuals", "households" or "bedspaces"')
    mandatory = checker.value(table, "mandatory", where)
    total_text = checker.value(table, "total", where)
    total = checker.formula(total_text, f"{where}, total") if total_text is not None else None
    categories = _check_categories(table, where, checker)
    if len(checker.problems) > before:
        return None
    return Question(
        number=number,
        text=text,
        counted=Counted(counted),
        mandatory=mandatory,
        categories=categories,
        total=total,
    )


def _check_categories(table: Mapping[str, Any], where: str, checker: _Checker) -> tuple[Category, ...]:
    tables = checker.value(table, "categories", where)
    if tables is None:
        return ()
    if not tables:
        checker.add(
            where, "there are no categories; add at least one [[questions.categories]] table under it"
        )
        return ()
    categories: list[Category] = []
    seen: dict[str, int] = {}
    for position, category_table in enumerate(tables, start=1):
        name = category_table.get("name")
        named = isinstance(name, str) and name.strip()
        category_where = (
            f"{where}, category '{name}'" if named else f"{where}, the {_ordinal(position)} category"
        )
        checker.unknown_keys(category_table, _CATEGORY_KEYS, category_where)
        name = checker.value(category_table, "name", category_where)
        formula_text = checker.value(category_table, "formula", category_where)
        formula = checker.formula(formula_text, category_where) if formula_text is not None else None
        if name is not None:
            seen[name] = seen.get(name, 0) + 1
            if seen[name] == 2:
                checker.add(
                    category_where,
                    "more than one category in this question has this name; give each its own name",
                )
        if name is not None and formula is not None:
            categories.append(Category(name, formula))
    return tuple(categories)


def _library_problem(term: Term, library: KpiLibrary) -> str | None:
    if term.code not in library:
        return _unknown_code(term.code, library)
    if term.part is None:
        return None
    parts = library[term.code]
    if not parts:
        return f"{term.code} has no breakdowns, so it has no part '{term.part}'; use its total, {term.code}"
    if term.part not in parts:
        return f"{term.code} has no part '{term.part}'; its parts are {', '.join(parts)}"
    return None


def _unknown_code(code: str, library: KpiLibrary) -> str:
    problem = f"{code} is not a KPI code in the library"
    if code.upper() in library:
        return f"{problem}; codes are written in capitals: {code.upper()}"
    # "A-B" with no spaces is read as one code; say so when it splits into known codes.
    pieces = code.split("-")
    for cut in range(1, len(pieces)):
        before, after = "-".join(pieces[:cut]), "-".join(pieces[cut:])
        if before in library and after in library:
            return f"{problem}; to subtract, put spaces around the minus sign: {before} - {after}"
    close = difflib.get_close_matches(code, list(library), n=1)
    if close:
        return f"{problem}; did you mean {close[0]}?"
    return f"{problem}; check the code on the KPI library page"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (true or false)"
    if isinstance(value, str):
        return f'the text "{value}"'
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, datetime):
        return f"the date and time {value.isoformat()}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict):
        return "a single table (write [[...]] with double brackets for a list of tables)"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _and_list(items: Iterable[str]) -> str:
    words = list(items)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


# ---------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class EvaluatedFormula:
    """A formula's value, or None with the terms that had no accepted figure (never a silent zero)."""

    formula: Formula
    value: float | None
    missing: tuple[Term, ...]


@dataclass(frozen=True)
class EvaluatedCategory:
    category: Category
    value: float | None
    missing: tuple[Term, ...]

    @property
    def name(self) -> str:
        return self.category.name


@dataclass(frozen=True)
class EvaluatedQuestion:
    question: Question
    categories: tuple[EvaluatedCategory, ...]
    total: EvaluatedFormula | None
    # None when any category is missing a figure.
    categories_sum: float | None

    @property
    def complete(self) -> bool:
        """Every category (and the total, when there is one) has a value."""
        values = [category.value for category in self.categories]
        if self.total is not None:
            values.append(self.total.value)
        return all(value is not None for value in values)

    @property
    def difference(self) -> float | None:
        """Categories' sum minus the total, when both are known; None otherwise."""
        if self.total is None or self.total.value is None or self.categories_sum is None:
            return None
        return self.categories_sum - self.total.value

    @property
    def adds_up(self) -> bool | None:
        """Whether the categories add up to the total; None when there is no total or a figure is missing."""
        if self.total is None or self.total.value is None or self.categories_sum is None:
            return None
        return math.isclose(self.categories_sum, self.total.value, rel_tol=1e-9, abs_tol=1e-9)


@dataclass(frozen=True)
class EvaluatedReturn:
    definition: Definition
    questions: tuple[EvaluatedQuestion, ...]

    def question(self, number: str) -> EvaluatedQuestion:
        for question in self.questions:
            if question.question.number == number:
                return question
        raise KeyError(f"{self.definition.file_name} has no question {number}")

    @property
    def not_adding_up(self) -> tuple[EvaluatedQuestion, ...]:
        """Questions whose categories do not add up to their total."""
        return tuple(question for question in self.questions if question.adds_up is False)

    @property
    def incomplete_mandatory(self) -> tuple[EvaluatedQuestion, ...]:
        """Mandatory questions with a figure missing: the return cannot be sent until they are filled."""
        return tuple(
            question for question in self.questions if question.question.mandatory and not question.complete
        )


def evaluate(definition: Definition, figure: FigureLookup) -> EvaluatedReturn:
    """Fill in the return from the year's figures. Pure: `figure` is asked once for each (code, part)."""
    known: dict[tuple[str, str | None], float | None] = {}

    def lookup(term: Term) -> float | None:
        key = (term.code, term.part)
        if key not in known:
            known[key] = figure(term.code, term.part)
        return known[key]

    def calculate(formula: Formula) -> tuple[float | None, tuple[Term, ...]]:
        values = [(term, lookup(term)) for term in formula.terms]
        missing = tuple(dict.fromkeys(term for term, value in values if value is None))
        if missing:
            return None, missing
        return sum((term.sign * float(value) for term, value in values if value is not None), 0.0), ()

    questions: list[EvaluatedQuestion] = []
    for question in definition.questions:
        categories = tuple(
            EvaluatedCategory(category, *calculate(category.formula)) for category in question.categories
        )
        total = (
            None if question.total is None else EvaluatedFormula(question.total, *calculate(question.total))
        )
        category_values = [category.value for category in categories]
        categories_sum = (
            None
            if any(value is None for value in category_values)
            else sum((value for value in category_values if value is not None), 0.0)
        )
        questions.append(EvaluatedQuestion(question, categories, total, categories_sum))
    return EvaluatedReturn(definition, tuple(questions))
