"""The statutory return's definition files: the shipped years load, every
validation problem is reported with where and how to fix it, formulas parse,
and the evaluator fills the return in without ever inventing a zero."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path

import pytest

from monitor.statutory.definition import (
    DEFINITIONS_FOLDER,
    Counted,
    Definition,
    DefinitionError,
    Formula,
    FormulaError,
    Term,
    evaluate,
    load_definition,
    load_definitions,
    parse_formula,
)

# The part of the standard library the definitions use, written out so the
# loader's tests read on their own; a test checks it agrees with STANDARD_KPIS.
LIBRARY: dict[str, tuple[str, ...]] = {
    "REF-RECEIVED": (
        "Police",
        "Children's social care",
        "MASH",
        "Health",
        "Education",
        "Self-referral",
        "Other",
    ),
    "REF-ACCEPTED": (),
    "CASELOAD": (),
    "REF-NOT-TAKEN": (
        "No space",
        "Needs beyond the service",
        "Not eligible",
        "Declined",
        "No recourse to public funds",
        "Other",
    ),
    "SA-SUPPORTED": ("Women", "Men", "Trans adults", "Children"),
    "SA-BLACK-MINORITISED": (),
    "SA-MENTAL-HEALTH": (),
    "SA-DISABLED": (),
    "SA-LGBT": (),
    "SA-ENDED": (
        "Support completed",
        "Moved to other accommodation",
        "Evicted or asked to leave",
        "Returned to the perpetrator",
        "Left without notice",
        "Other",
    ),
    "SA-BEDSPACES": (
        "Refuge",
        "Sanctuary scheme",
        "Dispersed accommodation",
        "Second stage accommodation",
        "Other safe accommodation",
    ),
}

HEADER = """\
reporting_year = "2024/25"
version = 1
title = "Test return"
published = 2025-04-01
source = "Written for a test."
illustrative = true
"""

QUESTION_1 = """
[[questions]]
number = "1"
text = "How many individuals were supported?"
counted = "individuals"
mandatory = true
total = "SA-SUPPORTED"

  [[questions.categories]]
  name = "Women"
  formula = "SA-SUPPORTED[Women]"

  [[questions.categories]]
  name = "Everyone else"
  formula = "SA-SUPPORTED - SA-SUPPORTED[Women]"
"""

QUESTION_3 = """
[[questions]]
number = "3"
text = "How many households could not be supported?"
counted = "households"
mandatory = false

  [[questions.categories]]
  name = "No space"
  formula = "REF-NOT-TAKEN[No space]"
"""

VALID = HEADER + QUESTION_1


def write(folder: Path, text: str, name: str = "2024-25.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_in(folder: Path, text: str, name: str = "2024-25.toml") -> tuple[str, ...]:
    with pytest.raises(DefinitionError) as raised:
        load_definition(write(folder, text, name), LIBRARY)
    return raised.value.problems


def standard_library() -> dict[str, Sequence[str]]:
    # Imported here: the library module needs SQLAlchemy, and only this test wants it.
    from monitor.kpis.library.definitions import STANDARD_KPIS

    return {spec.code: spec.breakdowns for spec in STANDARD_KPIS}


# ---------------------------------------------------------------- the shipped files


def literal_library() -> Mapping[str, Sequence[str]]:
    return LIBRARY


@pytest.mark.parametrize("library", [literal_library, standard_library], ids=["literal", "STANDARD_KPIS"])
def test_the_shipped_definitions_load(library: Callable[[], Mapping[str, Sequence[str]]]) -> None:
    definitions = load_definitions(DEFINITIONS_FOLDER, library())

    assert list(definitions) == ["2013/14", "2024/25"]
    real, demo = definitions["2024/25"], definitions["2013/14"]
    assert (real.illustrative, demo.illustrative) == (False, True)
    assert "Support in domestic abuse safe accommodation" in real.source
    assert "2021/22" in (demo.notes or "")
    for definition in (real, demo):
        assert [question.number for question in definition.questions] == ["1", "2", "3", "4", "5"]
        assert [question.counted for question in definition.questions] == [
            Counted.INDIVIDUALS,
            Counted.INDIVIDUALS,
            Counted.HOUSEHOLDS,
            Counted.HOUSEHOLDS,
            Counted.BEDSPACES,
        ]


def test_the_literal_library_agrees_with_the_standard_one() -> None:
    standard = standard_library()

    assert {code: tuple(standard[code]) for code in LIBRARY} == LIBRARY


def test_each_reason_and_type_in_the_library_is_asked_in_2024_25() -> None:
    real = load_definitions(DEFINITIONS_FOLDER, LIBRARY)["2024/25"]

    for number, code in (
        ("1", "SA-SUPPORTED"),
        ("3", "REF-NOT-TAKEN"),
        ("4", "SA-ENDED"),
        ("5", "SA-BEDSPACES"),
    ):
        question = real.question(number)
        assert question.total == Formula((Term(1, code),))
        assert [category.formula for category in question.categories] == [
            Formula((Term(1, code, part),)) for part in LIBRARY[code]
        ]


def test_the_years_differ_as_data_2013_14_does_not_ask_about_lgbt_individuals() -> None:
    definitions = load_definitions(DEFINITIONS_FOLDER, LIBRARY)

    def characteristics(year: str) -> list[str]:
        return [category.name for category in definitions[year].question("2").categories]

    assert characteristics("2024/25") == ["Black and minoritised", "Mental health needs", "Disabled", "LGBT+"]
    assert characteristics("2013/14") == ["Black and minoritised", "Mental health needs", "Disabled"]
    assert ("SA-LGBT", None) in definitions["2024/25"].figures_needed
    assert ("SA-LGBT", None) not in definitions["2013/14"].figures_needed


# ---------------------------------------------------------------- a valid file


def test_a_valid_file_loads_into_frozen_dataclasses(tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path, VALID + QUESTION_3), LIBRARY)

    assert isinstance(definition, Definition)
    assert (definition.reporting_year, definition.version, definition.published) == (
        "2024/25",
        1,
        date(2025, 4, 1),
    )
    assert (definition.notes, definition.file_name) == (None, "2024-25.toml")
    first, third = definition.questions
    assert (first.number, first.counted, first.mandatory) == ("1", Counted.INDIVIDUALS, True)
    assert first.categories[1].formula == Formula(
        (Term(1, "SA-SUPPORTED"), Term(-1, "SA-SUPPORTED", "Women"))
    )
    assert (third.total, third.mandatory) == (None, False)
    assert definition.figures_needed == {
        ("SA-SUPPORTED", None),
        ("SA-SUPPORTED", "Women"),
        ("REF-NOT-TAKEN", "No space"),
    }
    with pytest.raises(AttributeError):
        definition.version = 2  # type: ignore[misc]


# ---------------------------------------------------------------- file-level problems


def test_invalid_toml_is_reported_with_its_line(tmp_path: Path) -> None:
    text = VALID.replace('title = "Test return"', "title = Test return")

    assert problems_in(tmp_path, text) == (
        "2024-25.toml, line 3, column 9: the file is not valid TOML (Invalid value); "
        'correct the syntax there (text goes in double quotes, like name = "Women")',
    )


def test_a_file_cut_short_is_reported_at_its_end(tmp_path: Path) -> None:
    assert problems_in(tmp_path, VALID + 'notes = "unfinished') == (
        "2024-25.toml, at the end of the file: the file is not valid TOML (Unterminated string); "
        'correct the syntax there (text goes in double quotes, like name = "Women")',
    )


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "2024-25.toml"
    path.write_bytes(VALID.replace("Test return", "Caf\xe9").encode("latin-1"))

    with pytest.raises(DefinitionError) as raised:
        load_definition(path, LIBRARY)
    assert raised.value.problems == ("2024-25.toml: the file is not UTF-8 text; save it as UTF-8",)


def test_every_missing_key_is_reported(tmp_path: Path) -> None:
    text = 'reporting_year = "2024/25"\n'

    assert problems_in(tmp_path, text) == (
        "2024-25.toml: version is missing; add it, like version = 1",
        '2024-25.toml: title is missing; add it, like title = "Support in domestic abuse safe accommodation, 2024/25"',
        "2024-25.toml: published is missing; add it, like published = 2025-04-01",
        '2024-25.toml: source is missing; add it, like source = "Follows MHCLG\'s annual data collection"',
        "2024-25.toml: illustrative is missing; add it, like illustrative = false",
        "2024-25.toml: questions is missing; add it, like [[questions]]",
    )


@pytest.mark.parametrize(
    ("line", "replacement", "problem"),
    [
        (
            "version = 1",
            'version = "1"',
            'version must be a whole number, like version = 1, not the text "1"',
        ),
        (
            "version = 1",
            "version = true",
            "version must be a whole number, like version = 1, not true (true or false)",
        ),
        (
            "version = 1",
            "version = 0",
            "version is 0; it must be 1 or more (1 for a new year, bumped for a correction)",
        ),
        (
            "published = 2025-04-01",
            'published = "2025-04-01"',
            'published must be a date, without quotes, like published = 2025-04-01, not the text "2025-04-01"',
        ),
        (
            "published = 2025-04-01",
            "published = 2025-04-01T09:00:00",
            "published must be a date, without quotes, like published = 2025-04-01, "
            "not the date and time 2025-04-01T09:00:00",
        ),
        (
            "illustrative = true",
            'illustrative = "yes"',
            'illustrative must be true or false, like illustrative = false, not the text "yes"',
        ),
        (
            'title = "Test return"',
            'title = "  "',
            'title is empty; fill it in, like title = "Support in domestic abuse safe accommodation, 2024/25"',
        ),
        (
            'source = "Written for a test."',
            'source = "Written for a test."\nnotse = "A typo"',
            "notse is not a key here; the keys are reporting_year, version, title, published, source, "
            "illustrative, notes, questions (check the spelling)",
        ),
        (
            'reporting_year = "2024/25"',
            'reporting_year = "2024-25"',
            'reporting_year "2024-25" is not a reporting year; write it like "2024/25"',
        ),
        (
            'reporting_year = "2024/25"',
            'reporting_year = "2024/26"',
            'reporting_year "2024/26" is not two consecutive years; write it like "2024/25"',
        ),
        (
            'reporting_year = "2024/25"',
            'reporting_year = "2023/24"',
            'reporting_year is "2023/24" but the file is named 2024-25.toml; '
            "rename the file to 2023-24.toml or correct reporting_year",
        ),
    ],
)
def test_each_top_level_problem_is_reported(
    tmp_path: Path, line: str, replacement: str, problem: str
) -> None:
    assert line in VALID
    assert problems_in(tmp_path, VALID.replace(line, replacement)) == (f"2024-25.toml: {problem}",)


def test_a_year_across_a_century_is_consecutive(tmp_path: Path) -> None:
    definition = load_definition(
        write(tmp_path, VALID.replace("2024/25", "2099/00"), "2099-00.toml"), LIBRARY
    )

    assert definition.reporting_year == "2099/00"


def test_a_file_named_other_than_its_year_is_reported(tmp_path: Path) -> None:
    assert problems_in(tmp_path, VALID, name="return.toml") == (
        'return.toml: reporting_year is "2024/25" but the file is named return.toml; '
        "rename the file to 2024-25.toml or correct reporting_year",
    )


def test_a_file_with_no_questions_is_reported(tmp_path: Path) -> None:
    assert problems_in(tmp_path, HEADER + "questions = []\n") == (
        "2024-25.toml: there are no questions; add at least one [[questions]] table",
    )


def test_questions_written_as_a_single_table_are_reported(tmp_path: Path) -> None:
    text = HEADER + '[questions]\nnumber = "1"\n'

    assert problems_in(tmp_path, text) == (
        "2024-25.toml: questions must be a list of [[questions]] tables, like [[questions]], "
        "not a single table (write [[...]] with double brackets for a list of tables)",
    )


# ---------------------------------------------------------------- question problems


def test_duplicate_question_numbers_are_reported(tmp_path: Path) -> None:
    text = VALID + QUESTION_3.replace('number = "3"', 'number = "1"')

    assert problems_in(tmp_path, text) == (
        "2024-25.toml, question 1: 2 questions have this number (the 1st and 2nd [[questions]] tables); "
        "give each question its own number",
    )


def test_a_question_without_a_usable_number_is_named_by_its_place(tmp_path: Path) -> None:
    text = VALID + QUESTION_3.replace('number = "3"', "number = 3")

    assert problems_in(tmp_path, text) == (
        '2024-25.toml, the 2nd question: number must be text in double quotes, like number = "1", not the number 3',
    )


def test_each_question_problem_is_reported(tmp_path: Path) -> None:
    text = HEADER + QUESTION_3.replace('counted = "households"', 'counted = "people"').replace(
        "mandatory = false", 'mandatory = "no"\nmandetory = false'
    )

    assert problems_in(tmp_path, text) == (
        "2024-25.toml, question 3: mandetory is not a key here; the keys are number, text, counted, mandatory, "
        "total, categories (check the spelling)",
        '2024-25.toml, question 3: counted is "people"; it must be "individuals", "households" or "bedspaces"',
        '2024-25.toml, question 3: mandatory must be true or false, like mandatory = true, not the text "no"',
    )


def test_a_question_with_no_categories_is_reported(tmp_path: Path) -> None:
    text = HEADER + QUESTION_3.split("  [[questions.categories]]")[0] + "categories = []\n"

    assert problems_in(tmp_path, text) == (
        "2024-25.toml, question 3: there are no categories; add at least one [[questions.categories]] table under it",
    )


def test_a_question_missing_its_categories_is_reported(tmp_path: Path) -> None:
    text = HEADER + QUESTION_3.split("  [[questions.categories]]")[0]

    assert problems_in(tmp_path, text) == (
        "2024-25.toml, question 3: categories is missing; add it, like [[questions.categories]]",
    )


# ---------------------------------------------------------------- category and formula problems


def test_duplicate_category_names_are_reported(tmp_path: Path) -> None:
    text = VALID.replace('name = "Everyone else"', 'name = "Women"')

    assert problems_in(tmp_path, text) == (
        "2024-25.toml, question 1, category 'Women': more than one category in this question has this name; "
        "give each its own name",
    )


def test_a_category_with_missing_keys_is_named_by_its_place(tmp_path: Path) -> None:
    text = VALID.replace('name = "Everyone else"\n', "").replace(
        'formula = "SA-SUPPORTED - ', 'fromula = "SA-SUPPORTED - '
    )

    assert problems_in(tmp_path, text) == (
        "2024-25.toml, question 1, the 2nd category: fromula is not a key here; the keys are name, formula "
        "(check the spelling)",
        '2024-25.toml, question 1, the 2nd category: name is missing; add it, like name = "Women"',
        '2024-25.toml, question 1, the 2nd category: formula is missing; add it, like formula = "SA-SUPPORTED[Women]"',
    )


@pytest.mark.parametrize(
    ("formula", "problem"),
    [
        (
            "REF-NOT-TAKEN[No room]",
            "REF-NOT-TAKEN has no part 'No room'; its parts are No space, Needs beyond the service, Not eligible, "
            "Declined, No recourse to public funds, Other",
        ),
        (
            "REF-NOT-TAKN[No space]",
            "REF-NOT-TAKN is not a KPI code in the library; did you mean REF-NOT-TAKEN?",
        ),
        (
            "ref-not-taken[No space]",
            "ref-not-taken is not a KPI code in the library; codes are written in capitals: REF-NOT-TAKEN",
        ),
        (
            "SA-SUPPORTED-SA-SUPPORTED[Children]",
            "SA-SUPPORTED-SA-SUPPORTED is not a KPI code in the library; to subtract, put spaces around the minus "
            "sign: SA-SUPPORTED - SA-SUPPORTED",
        ),
        ("HOUSEHOLDS", "HOUSEHOLDS is not a KPI code in the library; check the code on the KPI library page"),
        (
            "SA-DISABLED[Women]",
            "SA-DISABLED has no breakdowns, so it has no part 'Women'; use its total, SA-DISABLED",
        ),
        (
            "REF-NOT-TAKEN[No space] * 2",
            "the formula 'REF-NOT-TAKEN[No space] * 2' has '*' at character 25, where '+' or '-' should be; "
            "only adding and subtracting are allowed: a formula is KPI codes and parts like SA-SUPPORTED[Women], "
            "joined by + and -",
        ),
    ],
)
def test_each_formula_problem_names_the_category(tmp_path: Path, formula: str, problem: str) -> None:
    text = HEADER + QUESTION_3.replace('"REF-NOT-TAKEN[No space]"', f'"{formula}"')

    assert problems_in(tmp_path, text) == (f"2024-25.toml, question 3, category 'No space': {problem}",)


def test_a_problem_in_a_total_names_the_total(tmp_path: Path) -> None:
    text = VALID.replace('total = "SA-SUPPORTED"', 'total = "SA-SUPPORTED[Everyone]"')

    assert problems_in(tmp_path, text) == (
        "2024-25.toml, question 1, total: SA-SUPPORTED has no part 'Everyone'; its parts are Women, Men, "
        "Trans adults, Children",
    )


def test_every_unknown_code_and_part_in_one_formula_is_reported(tmp_path: Path) -> None:
    text = VALID.replace('"SA-SUPPORTED - SA-SUPPORTED[Women]"', '"SA-SUPORTED - SA-SUPPORTED[Woman]"')

    assert problems_in(tmp_path, text) == (
        "2024-25.toml, question 1, category 'Everyone else': SA-SUPORTED is not a KPI code in the library; "
        "did you mean SA-SUPPORTED?",
        "2024-25.toml, question 1, category 'Everyone else': SA-SUPPORTED has no part 'Woman'; its parts are "
        "Women, Men, Trans adults, Children",
    )


def test_several_problems_across_the_file_are_reported_together(tmp_path: Path) -> None:
    text = (
        VALID.replace("version = 1", "version = -2")
        .replace('total = "SA-SUPPORTED"', 'total = "SA-SUPPORTED +"')
        .replace('counted = "individuals"', 'counted = "persons"')
    ) + QUESTION_3.replace("[No space]", "[No room]")

    with pytest.raises(DefinitionError) as raised:
        load_definition(write(tmp_path, text), LIBRARY)

    expected = (
        "2024-25.toml: version is -2; it must be 1 or more (1 for a new year, bumped for a correction)",
        '2024-25.toml, question 1: counted is "persons"; it must be "individuals", "households" or "bedspaces"',
        "2024-25.toml, question 1, total: the formula 'SA-SUPPORTED +' ends with '+'; add a KPI code after it "
        "or remove it",
        "2024-25.toml, question 3, category 'No space': REF-NOT-TAKEN has no part 'No room'; its parts are "
        "No space, Needs beyond the service, Not eligible, Declined, No recourse to public funds, Other",
    )
    assert raised.value.problems == expected
    assert str(raised.value) == "\n".join(expected)


# ---------------------------------------------------------------- a folder of definitions


def test_a_folder_loads_keyed_by_year_in_year_order(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    write(tmp_path, VALID.replace("2024/25", "2013/14"), name="2013-14.toml")
    (tmp_path / "README.md").write_text("Not a definition.", encoding="utf-8")

    definitions = load_definitions(tmp_path, LIBRARY)

    assert list(definitions) == ["2013/14", "2024/25"]
    assert definitions["2013/14"].file_name == "2013-14.toml"


def test_two_files_for_one_year_are_named_together(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    write(tmp_path, VALID.replace("version = 1", "version = 2"), name="2024-25-corrected.toml")

    with pytest.raises(DefinitionError) as raised:
        load_definitions(tmp_path, LIBRARY)

    assert raised.value.problems == (
        '2024-25-corrected.toml: reporting_year is "2024/25" but the file is named 2024-25-corrected.toml; '
        "rename the file to 2024-25.toml or correct reporting_year",
        "2024-25-corrected.toml and 2024-25.toml both define reporting year 2024/25; keep one file per year, "
        "named 2024-25.toml (a correction bumps version in that file)",
    )


def test_a_folder_reports_the_problems_of_every_file(tmp_path: Path) -> None:
    write(tmp_path, VALID.replace("version = 1", "version = 0"))
    write(
        tmp_path, VALID.replace("2024/25", "2013/14").replace("[Women]", "[Ladies]", 1), name="2013-14.toml"
    )

    with pytest.raises(DefinitionError) as raised:
        load_definitions(tmp_path, LIBRARY)

    assert raised.value.problems == (
        "2013-14.toml, question 1, category 'Women': SA-SUPPORTED has no part 'Ladies'; its parts are "
        "Women, Men, Trans adults, Children",
        "2024-25.toml: version is 0; it must be 1 or more (1 for a new year, bumped for a correction)",
    )


def test_a_missing_folder_or_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as folder:
        load_definitions(tmp_path / "nowhere", LIBRARY)
    with pytest.raises(DefinitionError) as file:
        load_definition(tmp_path / "2024-25.toml", LIBRARY)

    assert folder.value.problems == (
        f"{tmp_path / 'nowhere'}: there is no folder here; pass the folder that holds the definitions",
    )
    assert file.value.problems == (f"{tmp_path / '2024-25.toml'}: there is no such file; check the path",)


# ---------------------------------------------------------------- formulas


@pytest.mark.parametrize(
    ("text", "terms", "written"),
    [
        ("SA-SUPPORTED", (Term(1, "SA-SUPPORTED"),), "SA-SUPPORTED"),
        ("SA-SUPPORTED[Women]", (Term(1, "SA-SUPPORTED", "Women"),), "SA-SUPPORTED[Women]"),
        (
            "REF-NOT-TAKEN[No space]+REF-NOT-TAKEN[Other]",
            (Term(1, "REF-NOT-TAKEN", "No space"), Term(1, "REF-NOT-TAKEN", "Other")),
            "REF-NOT-TAKEN[No space] + REF-NOT-TAKEN[Other]",
        ),
        (
            "  SA-SUPPORTED -SA-SUPPORTED [ Children ]  ",
            (Term(1, "SA-SUPPORTED"), Term(-1, "SA-SUPPORTED", "Children")),
            "SA-SUPPORTED - SA-SUPPORTED[Children]",
        ),
        # A hyphen inside a label is part of the label, and after ']' a '-' can only be a minus.
        (
            "REF-RECEIVED[Self-referral]-REF-RECEIVED[Children's social care]",
            (Term(1, "REF-RECEIVED", "Self-referral"), Term(-1, "REF-RECEIVED", "Children's social care")),
            "REF-RECEIVED[Self-referral] - REF-RECEIVED[Children's social care]",
        ),
        ("CONTACT-2WD", (Term(1, "CONTACT-2WD"),), "CONTACT-2WD"),
    ],
)
def test_good_formulas_parse(text: str, terms: tuple[Term, ...], written: str) -> None:
    formula = parse_formula(text)

    assert formula == Formula(terms)
    assert str(formula) == written
    assert parse_formula(written) == formula


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the formula is empty; write a KPI code like SA-SUPPORTED or a part like SA-SUPPORTED[Women]"),
        (
            "   ",
            "the formula is empty; write a KPI code like SA-SUPPORTED or a part like SA-SUPPORTED[Women]",
        ),
        (
            "SA-SUPPORTED -",
            "the formula 'SA-SUPPORTED -' ends with '-'; add a KPI code after it or remove it",
        ),
        (
            "- SA-SUPPORTED",
            "the formula '- SA-SUPPORTED' has '-' at character 1, where a KPI code should be; "
            "a formula is KPI codes and parts like SA-SUPPORTED[Women], joined by + and -",
        ),
        (
            "SA-SUPPORTED + + SA-LGBT",
            "the formula 'SA-SUPPORTED + + SA-LGBT' has '+' at character 16, where a KPI code should be; "
            "a formula is KPI codes and parts like SA-SUPPORTED[Women], joined by + and -",
        ),
        (
            "SA-SUPPORTED + 2",
            "the formula 'SA-SUPPORTED + 2' has the number 2 at character 16; numbers are not allowed: "
            "a formula is KPI codes and parts like SA-SUPPORTED[Women], joined by + and -",
        ),
        (
            "(SA-SUPPORTED)",
            "the formula '(SA-SUPPORTED)' has '(' at character 1, where a KPI code should be; brackets are not "
            "allowed: a formula is KPI codes and parts like SA-SUPPORTED[Women], joined by + and -",
        ),
        (
            "SA-SUPPORTED SA-LGBT",
            "the formula 'SA-SUPPORTED SA-LGBT' has 'S' at character 14, where '+' or '-' should be; "
            "a formula is KPI codes and parts like SA-SUPPORTED[Women], joined by + and -",
        ),
        (
            "SA-SUPPORTED[Women",
            "the formula 'SA-SUPPORTED[Women' opens '[' at character 13 and does not close it; "
            "write a part as CODE[Breakdown label], with one label between the brackets",
        ),
        (
            "SA-SUPPORTED[Women[Men]]",
            "the formula 'SA-SUPPORTED[Women[Men]]' opens '[' at character 13 and does not close it; "
            "write a part as CODE[Breakdown label], with one label between the brackets",
        ),
        (
            "SA-SUPPORTED[ ]",
            "the formula 'SA-SUPPORTED[ ]' has empty brackets after SA-SUPPORTED at character 13; "
            "put a breakdown label between them, or remove them to use SA-SUPPORTED's total",
        ),
        (
            "[Women]",
            "the formula '[Women]' has '[' at character 1 with no KPI code before it; "
            "write a part as CODE[Breakdown label]",
        ),
        (
            "SA-SUPPORTED]",
            "the formula 'SA-SUPPORTED]' has ']' at character 13, where '+' or '-' should be; a ']' closes a part, "
            "so it needs a '[' before it: a formula is KPI codes and parts like SA-SUPPORTED[Women], joined by + and -",
        ),
    ],
)
def test_bad_formulas_say_what_and_where(text: str, message: str) -> None:
    with pytest.raises(FormulaError) as raised:
        parse_formula(text)

    assert str(raised.value) == message


# ---------------------------------------------------------------- evaluation


def valid_definition(tmp_path: Path, text: str = VALID + QUESTION_3) -> Definition:
    return load_definition(write(tmp_path, text), LIBRARY)


def test_evaluate_adds_and_subtracts_and_asks_for_each_figure_once(tmp_path: Path) -> None:
    definition = valid_definition(tmp_path)
    asked: list[tuple[str, str | None]] = []
    table = {("SA-SUPPORTED", None): 40, ("SA-SUPPORTED", "Women"): 25.5, ("REF-NOT-TAKEN", "No space"): 7}

    def figure(code: str, part: str | None) -> float | None:
        asked.append((code, part))
        return table.get((code, part))

    result = evaluate(definition, figure)

    first = result.question("1")
    assert [(category.name, category.value, category.missing) for category in first.categories] == [
        ("Women", 25.5, ()),
        ("Everyone else", 14.5, ()),
    ]
    assert first.total is not None and first.total.value == 40
    assert (first.categories_sum, first.difference, first.adds_up, first.complete) == (40, 0, True, True)
    third = result.question("3")
    assert (third.categories[0].value, third.total, third.adds_up) == (7, None, None)
    assert len(asked) == len(set(asked))
    assert set(asked) == definition.figures_needed
    assert (result.not_adding_up, result.incomplete_mandatory) == ((), ())


def test_a_missing_figure_gives_none_and_names_the_term_never_zero(tmp_path: Path) -> None:
    definition = valid_definition(tmp_path)

    def figure(code: str, part: str | None) -> float | None:
        table: dict[tuple[str, str | None], float] = {("SA-SUPPORTED", None): 40.0}
        return table.get((code, part))

    result = evaluate(definition, figure)

    women, everyone_else = result.question("1").categories
    assert (women.value, women.missing) == (None, (Term(1, "SA-SUPPORTED", "Women"),))
    assert (everyone_else.value, everyone_else.missing) == (None, (Term(-1, "SA-SUPPORTED", "Women"),))
    assert [str(term) for term in everyone_else.missing] == ["SA-SUPPORTED[Women]"]
    first = result.question("1")
    assert (first.categories_sum, first.adds_up, first.difference, first.complete) == (
        None,
        None,
        None,
        False,
    )
    assert [question.question.number for question in result.incomplete_mandatory] == ["1"]
    third = result.question("3")
    # Question 3 is not mandatory: missing, but it does not hold the return up.
    assert (third.complete, third.categories[0].value) == (False, None)


def test_a_zero_figure_is_a_value_not_a_missing_one(tmp_path: Path) -> None:
    definition = valid_definition(tmp_path, VALID)

    result = evaluate(definition, lambda code, part: 0)

    assert [category.value for category in result.question("1").categories] == [0, 0]
    assert result.question("1").adds_up is True


def test_categories_that_do_not_add_up_to_the_total_are_flagged(tmp_path: Path) -> None:
    text = HEADER + QUESTION_3.replace("mandatory = false", 'mandatory = true\ntotal = "REF-NOT-TAKEN"')
    definition = valid_definition(tmp_path, text)

    def figure(code: str, part: str | None) -> float | None:
        return {("REF-NOT-TAKEN", None): 10, ("REF-NOT-TAKEN", "No space"): 7}.get((code, part))

    result = evaluate(definition, figure)

    third = result.question("3")
    assert (third.categories_sum, third.difference, third.adds_up) == (7, -3, False)
    assert result.not_adding_up == (third,)
