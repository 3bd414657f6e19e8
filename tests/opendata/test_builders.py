"""The pure builders on literal facts: one release per event, each a full
snapshot, whose compiled record is the contract as the register holds it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import ocdsmerge
import pytest

from monitor.opendata import giving, ocds, ready
from monitor.opendata.facts import (
    AmendmentFacts,
    ContractFacts,
    FundingFacts,
    MilestoneFacts,
    OptionFacts,
    OrgFacts,
)
from monitor.opendata.settings import Publishing
from monitor.opendata.validate import giving_package_problems, ocds_package_problems, schema_path

SETTINGS = Publishing(
    ocid_prefix="ocds-test01",
    giving_prefix="360G-test",
    publisher="Test publisher",
    license_url="https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    base_url="https://monitor.example.gov.uk",
)
COUNCIL = OrgFacts(id=1, name="Test Borough Council")
PARTNER = OrgFacts(id=2, name="Test Clinical Commissioning Group", ods_code="07L")
CHARITY = OrgFacts(id=3, name="Test Women's Aid", charity_number="1234567")
COMPANY = OrgFacts(id=4, name="Test Services Ltd", company_number="01234567")
POLICE = OrgFacts(id=5, name="Test Police and Crime Commissioner")


def contract(**changes: Any) -> ContractFacts:
    """A two-year contract from 1 April 2011 with options of 12 and 12 months."""
    facts = ContractFacts(
        id=42,
        reference="TEST-01",
        title="Advocacy for children",
        description="Independent advocacy for children and young people",
        agreement_type="contract",
        provider=CHARITY,
        lead_commissioner=COUNCIL,
        partner_commissioners=(PARTNER,),
        start_date=date(2011, 4, 1),
        original_end_date=date(2013, 3, 31),
        end_date=date(2013, 3, 31),
        award_date=date(2011, 2, 1),
        notice_months=6,
        total_value=Decimal("840000.00"),
        options=(
            OptionFacts(id=10, sequence=1, months=12, state="available"),
            OptionFacts(id=11, sequence=2, months=12, state="available"),
        ),
        funding=(
            FundingFacts(1, COUNCIL, "Community safety budget", "2012/13", Decimal("300000")),
            FundingFacts(2, POLICE, "Police and crime grant", "2012/13", Decimal("120000.50")),
        ),
    )
    return replace(facts, **changes)


def extension(**changes: Any) -> AmendmentFacts:
    amendment = AmendmentFacts(
        id=7,
        kind="extension",
        effective_date=date(2013, 1, 15),
        recorded_on=date(2013, 1, 16),
        rationale="Extended a year while commissioning is reviewed.",
        old_end_date=date(2013, 3, 31),
        new_end_date=date(2014, 3, 31),
        option_id=10,
    )
    return replace(amendment, **changes)


def extended(**changes: Any) -> ContractFacts:
    """The contract after option 1 was taken (as the register stores it)."""
    options = (replace(contract().options[0], state="exercised"), contract().options[1])
    return contract(end_date=date(2014, 3, 31), options=options, amendments=(extension(),), **changes)


def package_of(facts: ContractFacts, today: date) -> dict[str, Any]:
    releases = ocds.releases(facts, SETTINGS, today)
    package = ocds.release_package(
        releases,
        SETTINGS,
        uri=f"{SETTINGS.base_url}/api/v1/ocds",
        published=datetime(2013, 12, 2, tzinfo=UTC),
    )
    assert ocds_package_problems(package) == []
    return package


def compiled(package: dict[str, Any]) -> dict[str, Any]:
    merger = ocdsmerge.Merger(schema=str(schema_path("ocds-1.1.5", "release-schema.json")))
    record: dict[str, Any] = merger.create_compiled_release(package["releases"])
    return record


def summary(release: dict[str, Any]) -> tuple[str, str, list[str], str, str, str, Any]:
    agreement = release["contracts"][0]
    period = agreement["period"]
    return (
        release["id"].removeprefix("ocds-test01-42-"),
        release["date"][:10],
        release["tag"],
        agreement["status"],
        period["endDate"][:10],
        period["maxExtentDate"][:10],
        agreement["value"]["amount"],
    )


def test_an_extension_moves_the_end_date_while_the_maximum_extent_holds() -> None:
    package = package_of(extended(), date(2013, 12, 2))
    assert [summary(r) for r in package["releases"]] == [
        ("award", "2011-02-01", ["award", "contract"], "active", "2013-03-31", "2015-03-31", 840000),
        ("amendment-7", "2013-01-15", ["contractAmendment"], "active", "2014-03-31", "2015-03-31", 840000),
    ]
    award, amended = package["releases"]
    assert amended["contracts"][0]["amendments"] == [
        {
            "id": "7",
            "date": "2013-01-15T00:00:00+00:00",
            "rationale": "Extended a year while commissioning is reviewed.",
            "description": "Extension option 1 (12 months) taken: the end date moves from 31 March 2013 "
            "to 31 March 2014",
            "amendsReleaseID": "ocds-test01-42-award",
            "releaseID": "ocds-test01-42-amendment-7",
        }
    ]
    # The award is what was awarded, in every release.
    assert award["awards"] == amended["awards"]
    assert award["awards"][0]["contractPeriod"]["endDate"] == "2013-03-31T23:59:59+01:00"
    record = compiled(package)
    assert record["contracts"][0]["period"] == {
        "startDate": "2011-04-01T00:00:00+01:00",
        "endDate": "2014-03-31T23:59:59+01:00",
        "maxExtentDate": "2015-03-31T23:59:59+01:00",
    }
    assert record["tag"] == ["compiled"]


def test_declined_options_shorten_the_maximum_extent_in_an_update() -> None:
    options = (
        OptionFacts(id=10, sequence=1, months=12, state="exercised"),
        OptionFacts(id=11, sequence=2, months=12, state="declined", declined_on=date(2013, 6, 3)),
    )
    facts = contract(end_date=date(2014, 3, 31), options=options, amendments=(extension(),))
    package = package_of(facts, date(2013, 12, 2))
    assert [summary(r)[:6] for r in package["releases"]][1:] == [
        ("amendment-7", "2013-01-15", ["contractAmendment"], "active", "2014-03-31", "2015-03-31"),
        ("options-declined-11", "2013-06-03", ["contractUpdate"], "active", "2014-03-31", "2014-03-31"),
    ]
    # No date recorded for the decision: it is news today.
    undated = replace(facts, options=(options[0], replace(options[1], declined_on=None)))
    assert package_of(undated, date(2013, 12, 2))["releases"][-1]["date"][:10] == "2013-12-02"


def test_a_value_change_keeps_the_awarded_value_on_the_award() -> None:
    change = AmendmentFacts(
        id=8,
        kind="value change",
        effective_date=date(2012, 4, 1),
        recorded_on=date(2012, 3, 20),
        rationale="More referrals than planned.",
        old_value=Decimal("840000.00"),
        new_value=Decimal("900000.50"),
    )
    package = package_of(contract(total_value=Decimal("900000.50"), amendments=(change,)), date(2012, 12, 1))
    award, changed = package["releases"]
    assert award["contracts"][0]["value"] == {"amount": 840000, "currency": "GBP"}
    assert changed["date"][:10] == "2012-03-20"  # recorded before it took effect
    assert changed["contracts"][0]["value"] == {"amount": 900000.5, "currency": "GBP"}
    assert changed["awards"][0]["value"] == {"amount": 840000, "currency": "GBP"}
    assert changed["contracts"][0]["amendments"][0]["description"] == (
        "Total value changed from £840,000 to £900,000.50"
    )


def _termination(effective: date, recorded: date) -> AmendmentFacts:
    return AmendmentFacts(
        id=9,
        kind="termination",
        effective_date=effective,
        recorded_on=recorded,
        rationale="Service re-procured with a neighbouring council.",
        old_end_date=date(2013, 3, 31),
        new_end_date=effective,
    )


def test_notice_served_is_active_until_the_ending_takes_effect() -> None:
    ending = _termination(date(2012, 9, 30), recorded=date(2012, 6, 1))
    options = tuple(replace(o, state="lapsed") for o in contract().options)
    facts = contract(end_date=date(2012, 9, 30), options=options, amendments=(ending,))
    in_notice = package_of(facts, date(2012, 7, 1))
    assert [summary(r)[:6] for r in in_notice["releases"]][1:] == [
        ("amendment-9", "2012-06-01", ["contractAmendment"], "active", "2012-09-30", "2012-09-30"),
    ]
    ended = package_of(facts, date(2012, 10, 1))
    assert [summary(r)[:4] for r in ended["releases"]][1:] == [
        ("amendment-9", "2012-06-01", ["contractAmendment"], "active"),
        ("termination", "2012-09-30", ["contractTermination"], "terminated"),
    ]
    assert compiled(ended)["contracts"][0]["status"] == "terminated"
    assert ended["releases"][-1]["contracts"][0]["amendments"][0]["description"] == (
        "Terminated: the contract ends on 30 September 2012 (it was due to end on 31 March 2013)"
    )


def test_an_ending_recorded_after_it_took_effect_is_one_release() -> None:
    ending = replace(_termination(date(2012, 9, 30), recorded=date(2013, 2, 1)), kind="decommissioning")
    facts = contract(end_date=date(2012, 9, 30), options=(), amendments=(ending,))
    package = package_of(facts, date(2013, 12, 2))
    assert [summary(r)[:4] for r in package["releases"]][1:] == [
        ("amendment-9", "2012-09-30", ["contractAmendment", "contractTermination"], "terminated"),
    ]


def test_an_expired_contract_gets_a_termination_release_the_day_after_its_end() -> None:
    package = package_of(contract(), date(2013, 12, 2))
    assert [summary(r)[:4] for r in package["releases"]] == [
        ("award", "2011-02-01", ["award", "contract"], "active"),
        ("termination", "2013-04-01", ["contractTermination"], "terminated"),
    ]
    assert ocds.current_status(contract(), date(2013, 12, 2)) == "terminated"
    # Nothing has ended yet on the last day.
    assert len(package_of(contract(), date(2013, 3, 31))["releases"]) == 1


def test_a_contract_awarded_in_the_future_is_pending_and_dated_today() -> None:
    facts = contract(award_date=date(2014, 2, 1), start_date=date(2014, 4, 1))
    facts = replace(facts, original_end_date=date(2016, 3, 31), end_date=date(2016, 3, 31))
    (release,) = package_of(facts, date(2013, 12, 2))["releases"]
    assert release["date"] == "2013-12-02T00:00:00+00:00"
    assert release["contracts"][0]["status"] == "pending"
    assert release["awards"][0]["status"] == "pending"


def test_parties_identifiers_and_the_funding_split() -> None:
    funding = (
        *contract().funding,
        FundingFacts(3, PARTNER, "Programme budget", "2012/13", Decimal("50000")),
    )
    (release, _) = package_of(contract(provider=COMPANY, funding=funding), date(2013, 12, 2))["releases"]
    parties = {p["name"]: p for p in release["parties"]}
    assert parties["Test Borough Council"] == {
        "id": "ocds-test01-org-1",
        "name": "Test Borough Council",
        "roles": ["buyer", "funder"],
    }
    assert parties["Test Clinical Commissioning Group"]["id"] == "GB-NHS-07L"
    assert parties["Test Clinical Commissioning Group"]["roles"] == ["buyer", "funder"]
    assert parties["Test Services Ltd"]["identifier"] == {"scheme": "GB-COH", "id": "01234567"}
    assert parties["Test Services Ltd"]["roles"] == ["supplier"]
    assert parties["Test Police and Crime Commissioner"]["roles"] == ["funder"]
    assert release["buyer"] == {"id": "ocds-test01-org-1", "name": "Test Borough Council"}
    budget = release["planning"]["budget"]
    assert budget["amount"] == {"amount": 470000.5, "currency": "GBP"}
    police = next(b for b in budget["budgetBreakdown"] if b["sourceParty"]["name"].endswith("Commissioner"))
    assert police == {
        "id": "2",
        "description": "Police and crime grant, 2012/13",
        "amount": {"amount": 120000.5, "currency": "GBP"},
        "period": {"startDate": "2012-04-01T00:00:00+01:00", "endDate": "2013-03-31T23:59:59+01:00"},
        "sourceParty": {"id": "ocds-test01-org-5", "name": "Test Police and Crime Commissioner"},
    }


def test_milestones_split_at_the_award() -> None:
    milestones = (
        MilestoneFacts(1, "Evaluate tenders", date(2011, 1, 10), date(2011, 1, 12)),
        MilestoneFacts(2, "Mobilisation complete", date(2011, 3, 31), None),
        MilestoneFacts(3, "First review", date(2014, 3, 1), None),
    )
    facts = extended(milestones=milestones)
    release = package_of(facts, date(2013, 12, 2))["releases"][-1]
    assert release["planning"]["milestones"] == [
        {
            "id": "1",
            "title": "Evaluate tenders",
            "dueDate": "2011-01-10T00:00:00+00:00",
            "status": "met",
            "dateMet": "2011-01-12T00:00:00+00:00",
        }
    ]
    assert [(m["title"], m["status"]) for m in release["contracts"][0]["milestones"]] == [
        ("Mobilisation complete", "notMet"),
        ("First review", "scheduled"),
    ]


def test_readiness_names_the_missing_field_and_where_to_fill_it() -> None:
    facts = contract(award_date=None, description="")
    (problem,) = ready.ocds_problems(facts)
    assert problem.field == "award_date" and problem.fixed_on_details_page
    assert problem.message.startswith("Enter the award date under Change details on the contract page")
    with pytest.raises(ValueError, match="award date"):
        ocds.releases(facts, SETTINGS, date(2013, 12, 2))
    (not_a_grant,) = ready.giving_problems(facts)
    assert not_a_grant.field == "agreement_type" and "Only grants" in not_a_grant.message
    grant = replace(facts, agreement_type="grant")
    assert [p.field for p in ready.giving_problems(grant)] == ["award_date", "description"]
    assert ready.giving_problems(contract(agreement_type="grant")) == []


def test_schema_paths_map_back_to_register_fields() -> None:
    assert ready.field_for_path("releases/3/date") == "award_date"
    assert ready.field_for_path("releases/0/contracts/0/period/endDate") == "end_date"
    assert ready.field_for_path("releases/0/contracts/0/value/amount") == "total_value"
    assert (
        ready.field_for_path("releases/0/planning/budget/budgetBreakdown/0/amount/amount") == "funding_lines"
    )
    assert ready.field_for_path("grants/0/awardDate") == "award_date"
    assert ready.field_for_path("grants/1/amountAwarded") == "total_value"
    assert ready.field_for_path("uri") == "settings"


def test_a_grant_record() -> None:
    facts = contract(agreement_type="grant", provider=OrgFacts(id=9, name="Local Rape Crisis Centre"))
    grant = giving.grant(facts, SETTINGS)
    assert grant == {
        "id": "360G-test-42",
        "title": "Advocacy for children",
        "description": "Independent advocacy for children and young people",
        "currency": "GBP",
        "amountAwarded": 840000,
        "awardDate": "2011-02-01",
        "plannedDates": [{"startDate": "2011-04-01", "endDate": "2013-03-31", "duration": 24}],
        "recipientOrganization": [{"id": "360G-test-org-9", "name": "Local Rape Crisis Centre"}],
        "fundingOrganization": [
            {"id": "360G-test-org-1", "name": "Test Borough Council"},
            {"id": "360G-test-org-5", "name": "Test Police and Crime Commissioner"},
        ],
    }
    package = giving.grant_package([grant], SETTINGS, issued=date(2013, 12, 2))
    assert giving_package_problems(package) == []
    (note,) = ready.giving_notes(facts, "360G-test-org-9")
    assert "Local Rape Crisis Centre has no charity, company or NHS number" in note
    assert ready.giving_notes(contract(agreement_type="grant"), "x") == []
    odd = giving.grant(replace(facts, end_date=date(2013, 4, 15)), SETTINGS)
    assert "duration" not in odd["plannedDates"][0]
