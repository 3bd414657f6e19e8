"""The vendored schemas: the same files as shared/standards, shipped in the
package, and each validated with its own draft, offline."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from monitor.opendata import validate

REPO = Path(__file__).resolve().parents[2]
VENDORED = REPO / "monitor" / "opendata" / "schemas"
SHARED = REPO.parent / "shared" / "standards"


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != "README.md"
    }


def test_vendored_schemas_match_shared_standards() -> None:
    if not SHARED.is_dir():
        pytest.skip("shared/standards is not beside this repository")
    assert _files(VENDORED) == _files(SHARED)


def test_schemas_ship_with_the_package() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "opendata/schemas/**/*" in pyproject["tool"]["setuptools"]["package-data"]["monitor"]
    readme = (VENDORED / "README.md").read_text()
    assert "Apache License 2.0" in readme and "Creative Commons Attribution 4.0" in readme


def test_each_schema_is_valid_under_its_own_draft() -> None:
    release = validate.release_schema()
    package = validate.load_schema(validate.OCDS_FOLDER, "release-package-schema.json")
    assert release["$schema"].startswith("http://json-schema.org/draft-04/")
    Draft4Validator.check_schema(release)
    Draft4Validator.check_schema(package)
    for name in ("360-giving-schema.json", "360-giving-package-schema.json"):
        schema = validate.load_schema(validate.GIVING_FOLDER, name)
        assert "2020-12" in schema["$schema"]
        Draft202012Validator.check_schema(schema)


def test_validation_resolves_references_offline(offline: None) -> None:
    # An empty package reaches the release and grant schemas through their $refs.
    release = {"ocid": "ocds-demo00-1", "id": "x", "date": "2013-01-15", "tag": ["award"]}
    problems = validate.ocds_package_problems(
        {
            "uri": "/api/v1/ocds",
            "version": "1.1",
            "publishedDate": "2013-12-02T00:00:00Z",
            "publisher": {"name": "Test"},
            "releases": [release],
        }
    )
    found = {(p.path, p.message) for p in problems}
    assert ("uri", "'/api/v1/ocds' is not a 'uri'") in found
    assert ("releases/0/date", "'2013-01-15' is not a 'date-time'") in found
    assert ("releases/0", "'initiationType' is a required property") in found
    grant = {"id": "360G-demo-1", "amountAwarded": "81000.00"}
    problems = validate.giving_package_problems({"grants": [grant]})
    found = {(p.path, p.message) for p in problems}
    assert ("grants/0/amountAwarded", "'81000.00' is not of type 'number'") in found
    # The required fields are two alternative lists (recipient organisation or individual).
    assert any(p.path == "grants/0" and "not valid under any" in p.message for p in problems)


def test_plain_dates_pass_360giving_one_of() -> None:
    # Without a format checker "2012-03-01" matches two branches of oneOf and fails.
    grant = {
        "id": "360G-demo-1",
        "title": "Counselling",
        "description": "Counselling for women",
        "currency": "GBP",
        "amountAwarded": 81000,
        "awardDate": "2012-03-01",
        "plannedDates": [{"startDate": "2012-04-01", "endDate": "2014-03-31"}],
        "recipientOrganization": [{"id": "GB-CHC-1082016", "name": "The Woman's Trust"}],
        "fundingOrganization": [{"id": "360G-demo-org-1", "name": "A council"}],
    }
    assert validate.giving_package_problems({"grants": [grant], "issued": "2013-12-02"}) == []
    assert validate.giving_package_problems({"grants": [{**grant, "amountAwarded": "81000.00"}]})


def test_schema_files_are_json() -> None:
    for path in VENDORED.rglob("*.json"):
        json.loads(path.read_text())
