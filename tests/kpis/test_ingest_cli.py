"""`flask returns template` and `flask returns check`, run as an operator would."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.kpis.fixtures.workbooks import contract, fill
from tests.kpis.test_ingest import with_figures


def test_template_then_check_round_trip(frameworks: Flask, tmp_path: Path) -> None:
    runner = frameworks.test_cli_runner()
    blank = tmp_path / "halton-q3.xlsx"
    made = runner.invoke(args=["returns", "template", "HBC-CYP-DA-01", "2013-14-Q3", "-o", str(blank)])
    assert made.exit_code == 0, made.output
    assert "Q3 2013/14 (October to December 2013)" in made.output and blank.exists()

    failing = runner.invoke(args=["returns", "check", str(blank)])
    assert failing.exit_code == 1, failing.output
    lines = failing.output.splitlines()
    assert lines[0] == (
        "error  KPIs!H8  CASES-CLOSED  This cell is blank. Enter the number of cases closed as a whole "
        "number, like 12. Enter 0 if there were none."
    )
    assert any(line.startswith("error  KPIs!H13  REF-RECEIVED  This cell is blank.") for line in lines)
    assert lines[-1].startswith("check: halton-q3.xlsx fails: HBC-CYP-DA-01 Q3 2013/14")

    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(
        fill(
            blank.read_bytes(),
            # Contacts are counted out of the referrals accepted (the library's consistency rule).
            with_figures(
                **{"REF-ACCEPTED//value": 3, "CONTACT-2WD//numerator": 3, "CONTACT-2WD//denominator": 3}
            ),
            commentary={"REF-ACCEPTED": "Team short-staffed."},
        )
    )
    passing = runner.invoke(args=["returns", "check", str(filled)])
    assert passing.exit_code == 0, passing.output
    assert passing.output.splitlines() == [
        "check: filled.xlsx passes: HBC-CYP-DA-01 Q3 2013/14 (October to December 2013), 0 errors, "
        "0 warnings, 15 figures, 4 outcome rows"
    ]


def test_template_by_contract_id_and_any_case(frameworks: Flask, tmp_path: Path) -> None:
    runner = frameworks.test_cli_runner()
    by_id = runner.invoke(
        args=[
            "returns",
            "template",
            str(contract("LBBD-DV-002").id),
            "2013-14-Q1",
            "-o",
            str(tmp_path / "a.xlsx"),
        ]
    )
    assert by_id.exit_code == 0, by_id.output
    by_ref = runner.invoke(
        args=["returns", "template", "lbbd-dv-002", "2013-14-Q1", "-o", str(tmp_path / "b.xlsx")]
    )
    assert by_ref.exit_code == 0, by_ref.output


def test_template_errors(frameworks: Flask, tmp_path: Path) -> None:
    runner = frameworks.test_cli_runner()
    out = str(tmp_path / "x.xlsx")
    unknown = runner.invoke(args=["returns", "template", "NOPE-1", "2013-14-Q3", "-o", out])
    assert unknown.exit_code == 2 and "no contract with the reference or id 'NOPE-1'" in unknown.output
    bad_period = runner.invoke(args=["returns", "template", "HBC-CYP-DA-01", "2013-Q3", "-o", out])
    assert bad_period.exit_code == 2 and "'2013-Q3' is not a quarter" in bad_period.output
    assert "like 2013-14-Q3" in bad_period.output
    no_framework = runner.invoke(args=["returns", "template", "HBC-CYP-DA-01", "2013-14-Q2", "-o", out])
    assert no_framework.exit_code == 2
    assert "HBC-CYP-DA-01 has no KPIs in force in Q2 2013/14 (July to September 2013)" in no_framework.output
    assert not Path(out).exists()


def test_check_a_file_that_is_not_a_workbook(frameworks: Flask, tmp_path: Path) -> None:
    path = tmp_path / "return.xlsx"
    path.write_bytes(b"code,value\nREF-RECEIVED,12\n")
    result = frameworks.test_cli_runner().invoke(args=["returns", "check", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(
        "error  file  -  This is a CSV (comma-separated text) file"
    )
    assert "Traceback" not in result.output
