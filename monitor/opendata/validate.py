"""Validate open data documents against the vendored schemas, offline.

Each schema is registered under the identifier it declares, so the package
schemas' references to the release and grant schemas resolve from the files
kept here, never from the network. The validator classes are named rather
than picked from `$schema`: the 360Giving files declare a dialect URL that
jsonschema would only guess at (with a DeprecationWarning). A format checker
is always passed: without it 360Giving's plain dates match two branches of a
`oneOf` and fail, and OCDS dates and URIs would go unchecked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT202012

OCDS_FOLDER = "ocds-1.1.5"
GIVING_FOLDER = "360giving-1.4.3"


@dataclass(frozen=True)
class SchemaProblem:
    """Where a document breaks its schema (a JSON pointer-like path) and how."""

    path: str
    message: str


SCHEMAS = Path(__file__).resolve().parent / "schemas"


def schema_path(folder: str, name: str) -> Path:
    """A vendored schema file (installed with the package: see pyproject's package-data)."""
    return SCHEMAS / folder / name


@cache
def load_schema(folder: str, name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_path(folder, name).read_text(encoding="utf-8"))
    return schema


def release_schema() -> dict[str, Any]:
    return load_schema(OCDS_FOLDER, "release-schema.json")


@cache
def _registry() -> Registry:
    release = release_schema()
    grant = load_schema(GIVING_FOLDER, "360-giving-schema.json")
    return Registry().with_resources(
        [
            # Draft-04 names itself with "id"; 2020-12 with "$id".
            (release["id"], DRAFT4.create_resource(release)),
            (grant["$id"], DRAFT202012.create_resource(grant)),
        ]
    )


@cache
def _ocds_validator() -> Draft4Validator:
    return Draft4Validator(
        load_schema(OCDS_FOLDER, "release-package-schema.json"),
        registry=_registry(),
        format_checker=Draft4Validator.FORMAT_CHECKER,
    )


@cache
def _giving_validator() -> Draft202012Validator:
    return Draft202012Validator(
        load_schema(GIVING_FOLDER, "360-giving-package-schema.json"),
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _problems(errors: list[ValidationError]) -> list[SchemaProblem]:
    found = [
        SchemaProblem("/".join(str(part) for part in error.absolute_path), error.message)
        for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
    ]
    return list(dict.fromkeys(found))


def ocds_package_problems(package: Any) -> list[SchemaProblem]:
    """Problems with an OCDS 1.1 release package (empty when it is valid)."""
    return _problems(list(_ocds_validator().iter_errors(package)))


def giving_package_problems(package: Any) -> list[SchemaProblem]:
    """Problems with a 360Giving package of grants (empty when it is valid)."""
    return _problems(list(_giving_validator().iter_errors(package)))
