"""Can a contract be published, and if not, what must someone fill in?

The business layer of the open data checks: each problem names the register
field at fault and says, in plain English, where to put it right. They run
before the schema check, so a commissioner sees "Enter the award date"
rather than a JSON Schema message. Schema problems that still get through
(a bug, or data the checks did not foresee) are mapped back to register
fields by `field_for_path`, so they read the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.contracts.models import AgreementType
from monitor.opendata.facts import ContractFacts
from monitor.opendata.validate import SchemaProblem

CHANGE_DETAILS = "under Change details on the contract page"
# Fields fixed on the contract's Change details page; the web page links there.
EDITABLE_FIELDS = frozenset(
    {"award_date", "description", "title", "agreement_type", "end_date", "total_value"}
)


@dataclass(frozen=True)
class Problem:
    """A register field that stops publication, and how to fill it in."""

    field: str
    message: str

    @property
    def fixed_on_details_page(self) -> bool:
        return self.field in EDITABLE_FIELDS


def _award_date(contract: ContractFacts, standard: str) -> list[Problem]:
    if contract.award_date is not None:
        return []
    what = "the award release is dated with it" if standard == "OCDS" else "360Giving requires the award date"
    return [Problem("award_date", f"Enter the award date {CHANGE_DETAILS}, like 30 9 2013: {what}")]


def ocds_problems(contract: ContractFacts) -> list[Problem]:
    """What stops the contract being published as OCDS releases (none: it can be)."""
    return _award_date(contract, "OCDS")


def giving_problems(contract: ContractFacts) -> list[Problem]:
    """What stops the contract being published as a 360Giving grant (none: it can be)."""
    if contract.agreement_type != AgreementType.GRANT:
        return [
            Problem(
                "agreement_type",
                f"Only grants are published as 360Giving data and this is recorded as "
                f"{'an' if contract.agreement_type == AgreementType.SLA else 'a'} {contract.agreement_type}. "
                f"Publish it as open contracting data (OCDS), or if it is paid as a grant change the "
                f"agreement type {CHANGE_DETAILS}",
            )
        ]
    problems = _award_date(contract, "360Giving")
    if not contract.description.strip():
        problems.append(
            Problem(
                "description",
                f"Enter a description {CHANGE_DETAILS}, like 'Counselling for women affected by "
                f"domestic abuse': 360Giving requires a short description of what the grant pays for",
            )
        )
    return problems


def giving_notes(contract: ContractFacts, fallback_identifier: str) -> list[str]:
    """Advice that does not stop publication but makes the data more useful."""
    if contract.agreement_type != AgreementType.GRANT or contract.provider.registered_identifier():
        return []
    return [
        f"{contract.provider.name} has no charity, company or NHS number in the register, so the grant "
        f"names it by this service's own identifier ({fallback_identifier}). Ask an administrator to "
        f"record its number so other funders' data about it can be joined up."
    ]


# Where a schema path points back into the register (first match wins).
_PATH_FIELDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), f)
    for p, f in (
        (r"^releases/\d+/(date|awards/\d+/date)$", "award_date"),
        (r"/(title)$", "title"),
        (r"^(releases/\d+/contracts/\d+|grants/\d+)/description$", "description"),
        (r"amendments", "amendments"),
        (r"budget|fundingOrganization", "funding_lines"),
        (r"milestones", "milestones"),
        (r"(parties|buyer|suppliers|recipientOrganization)", "organisations"),
        (r"(period|plannedDates|maxExtentDate|endDate|startDate)", "end_date"),
        (r"(value|amount)", "total_value"),
        (r"awardDate", "award_date"),
        (r"^(releases|grants)/\d+", "register"),
    )
]


def field_for_path(path: str) -> str:
    """The register field a schema path is about; "settings" for package metadata."""
    for pattern, field in _PATH_FIELDS:
        if pattern.search(path):
            return field
    return "settings"


def from_schema(problem: SchemaProblem, standard: str) -> Problem:
    field = field_for_path(problem.path)
    if field == "settings":
        return Problem(
            field,
            f"The published {standard} package is not valid ({problem.path or 'package'}: {problem.message}). "
            "Check the open data settings SERVICE_URL, OPEN_DATA_PUBLISHER and OPEN_DATA_LICENSE",
        )
    return Problem(
        field,
        f"The {field.replace('_', ' ')} cannot be published as valid {standard} "
        f"({problem.path}: {problem.message}). Check it on the contract page and correct it",
    )
