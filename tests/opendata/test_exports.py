"""The demo register published: every export validates against its schema
(draft-04 for OCDS, 2020-12 for 360Giving), the Tri-borough extension is an
amendment, Barking & Dagenham's funding split is there per funder, and the
releases compile into the register as it stands, offline."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import ocdsmerge
import pytest
from flask import Flask
from jsonschema import Draft4Validator, Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT202012
from sqlalchemy import select

from monitor.clock import today
from monitor.contracts.dates import renewal_of
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.opendata import ocds, service, validate
from monitor.reports.audience import find_partnership
from tests.contracts.test_export import BD_FUNDERS_2013
from tests.opendata.conftest import SERVICE_URL, change_contract, contract_by_reference, parsed

BD_BOARD = "Barking and Dagenham Health and Wellbeing Board"


def _registry() -> Registry:
    release = validate.release_schema()
    grant = validate.load_schema(validate.GIVING_FOLDER, "360-giving-schema.json")
    return Registry().with_resources(
        [(release["id"], DRAFT4.create_resource(release)), (grant["$id"], DRAFT202012.create_resource(grant))]
    )


def assert_valid_ocds(document: dict[str, Any]) -> None:
    """Checked here with jsonschema directly, not only through the app's own helper."""
    schema = validate.load_schema(validate.OCDS_FOLDER, "release-package-schema.json")
    validator = Draft4Validator(schema, registry=_registry(), format_checker=Draft4Validator.FORMAT_CHECKER)
    validator.validate(document)
    for release in document["releases"]:
        Draft4Validator(validate.release_schema(), format_checker=Draft4Validator.FORMAT_CHECKER).validate(
            release
        )


def assert_valid_giving(document: dict[str, Any]) -> None:
    schema = validate.load_schema(validate.GIVING_FOLDER, "360-giving-package-schema.json")
    Draft202012Validator(
        schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    ).validate(document)


def settings() -> Any:
    return service.publishing(SERVICE_URL)


def register_package(partnership: str | None = None) -> dict[str, Any]:
    session = db.session()
    audience = find_partnership(session, partnership) if partnership else None
    contracts = service.contracts_in_scope(session, None, audience)
    return parsed(service.register_ocds(session, contracts, settings(), today(), audience).text)


def test_every_demo_contract_publishes_valid_ocds(demo: Flask, offline: None) -> None:
    session = db.session()
    for contract in session.scalars(select(Contract)):
        export = service.contract_ocds(session, contract, settings(), today())
        document = parsed(export.text)
        assert_valid_ocds(document)
        assert document["uri"] == f"{SERVICE_URL}/api/v1/contracts/{contract.id}/ocds"
        assert {r["ocid"] for r in document["releases"]} == {f"ocds-demo00-{contract.id}"}
        assert document["releases"][0]["id"] == f"ocds-demo00-{contract.id}-award"
    whole = register_package()
    assert_valid_ocds(whole)
    assert whole["uri"] == f"{SERVICE_URL}/api/v1/ocds"
    assert whole["version"] == "1.1"
    assert whole["extensions"] == [ocds.BUDGET_BREAKDOWN_EXTENSION]


def test_the_tri_borough_extension_is_an_amendment(demo: Flask) -> None:
    contract = contract_by_reference("TRI-VAWG-01")
    document = parsed(service.contract_ocds(db.session(), contract, settings(), today()).text)
    award, amended = document["releases"]
    assert award["tag"] == ["award", "contract"] and award["date"] == "2011-02-01T00:00:00+00:00"
    assert award["contracts"][0]["period"] == {
        "startDate": "2011-04-01T00:00:00+01:00",
        "endDate": "2013-03-31T23:59:59+01:00",
        "maxExtentDate": "2015-03-31T23:59:59+01:00",
    }
    assert amended["tag"] == ["contractAmendment"]
    assert amended["date"] == "2013-01-15T00:00:00+00:00"
    period = amended["contracts"][0]["period"]
    assert period["endDate"] == "2014-03-31T23:59:59+01:00"
    assert period["maxExtentDate"] == "2015-03-31T23:59:59+01:00"
    (amendment,) = amended["contracts"][0]["amendments"]
    assert amendment["date"] == "2013-01-15T00:00:00+00:00"
    assert amendment["rationale"].startswith("Programme extended for another year")
    assert amendment["amendsReleaseID"] == award["id"] and amendment["releaseID"] == amended["id"]
    assert "31 March 2013 to 31 March 2014" in amendment["description"]
    buyers = [p["name"] for p in amended["parties"] if "buyer" in p["roles"]]
    assert sorted(buyers) == [
        "London Borough of Hammersmith and Fulham",
        "Royal Borough of Kensington and Chelsea",
        "Westminster City Council",
    ]
    assert amended["buyer"]["name"] == "Westminster City Council"


def test_barking_and_dagenham_funding_split_per_funder(demo: Flask) -> None:
    document = register_package(BD_BOARD)
    assert_valid_ocds(document)
    assert document["uri"].startswith(f"{SERVICE_URL}/api/v1/ocds?partnership=")
    latest: dict[str, dict[str, Any]] = {}
    for release in document["releases"]:  # oldest first within each contract
        latest[release["ocid"]] = release
    assert len(latest) == 7  # LBBD-DV-001 to 007
    by_funder: dict[str, Decimal] = defaultdict(Decimal)
    for release in latest.values():
        # The decommissioned perpetrator programme (LBBD-DV-003) has no funding in 2013/14.
        for part in release.get("planning", {}).get("budget", {}).get("budgetBreakdown", []):
            assert part["period"] == {
                "startDate": "2013-04-01T00:00:00+01:00",
                "endDate": "2014-03-31T23:59:59+01:00",
            }
            assert part["description"].endswith(", 2013/14")
            assert part["amount"]["currency"] == "GBP"
            by_funder[part["sourceParty"]["name"]] += Decimal(str(part["amount"]["amount"]))
            # Every funder is a party with the funder role.
            party = next(p for p in release["parties"] if p["id"] == part["sourceParty"]["id"])
            assert "funder" in party["roles"]
    assert by_funder == {name: Decimal(amount) for name, amount in BD_FUNDERS_2013.items()}
    assert sum(by_funder.values()) == Decimal(823_500)


# Halton's service is in the pipeline on 1 September 2013 and mobilising on 1 October;
# on 6 May 2014 several contracts have run out.
@pytest.mark.parametrize("as_at", ["2013-09-01", "2013-10-01", "2013-12-02", "2014-05-06"])
def test_compiled_releases_are_the_register_today(demo: Flask, offline: None, as_at: str) -> None:
    """The round trip: releases -> ocdsmerge compiled release -> today's register."""
    demo.config["TODAY"] = as_at
    assert today() == date.fromisoformat(as_at)
    document = register_package()
    merger = ocdsmerge.Merger(schema=str(validate.schema_path(validate.OCDS_FOLDER, "release-schema.json")))
    releases: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for release in document["releases"]:
        releases[release["ocid"]].append(release)
    contracts = db.session.scalars(select(Contract)).all()
    assert len(releases) == len(contracts)
    for contract in contracts:
        record = merger.create_compiled_release(releases[f"ocds-demo00-{contract.id}"])
        renewal = renewal_of(contract, today())
        agreement = record["contracts"][0]
        assert agreement["period"]["endDate"][:10] == contract.end_date.isoformat(), contract.reference
        assert agreement["period"]["maxExtentDate"][:10] == renewal.maximum_extent_date.isoformat()
        assert Decimal(str(agreement["value"]["amount"])) == contract.total_value
        assert agreement["status"] == ocds.STATUS_MAP[renewal.status], contract.reference
        assert [a["id"] for a in agreement.get("amendments", [])] == [str(a.id) for a in contract.amendments]
        funding = record.get("planning", {}).get("budget", {}).get("budgetBreakdown", [])
        assert sorted(b["id"] for b in funding) == sorted(str(line.id) for line in contract.funding_lines)
    halton = merger.create_compiled_release(
        releases[f"ocds-demo00-{contract_by_reference('HBC-CYP-DA-01').id}"]
    )
    assert halton["contracts"][0]["status"] == ("pending" if as_at == "2013-09-01" else "active")
    # As at May 2014 the Tri-borough programme has run out: it ended the day after 31 March 2014.
    tri = releases[f"ocds-demo00-{contract_by_reference('TRI-VAWG-01').id}"]
    if as_at == "2014-05-06":
        assert tri[-1]["tag"] == ["contractTermination"] and tri[-1]["date"][:10] == "2014-04-01"
    else:
        assert [r["tag"] for r in tri] == [["award", "contract"], ["contractAmendment"]]


def test_the_demo_grants_publish_as_valid_360giving(demo: Flask, offline: None) -> None:
    session = db.session()
    audience = find_partnership(session, BD_BOARD)
    contracts = service.contracts_in_scope(session, None, audience)
    document = parsed(service.register_grants(session, contracts, settings(), today(), audience).text)
    assert_valid_giving(document)
    grants = {g["title"]: g for g in document["grants"]}
    assert set(grants) == {
        "Specialist counselling for women (up to 18 weeks)",
        "Rape crisis helpline and counselling (east London)",
    }
    counselling = grants["Specialist counselling for women (up to 18 weeks)"]
    dv004 = contract_by_reference("LBBD-DV-004")
    assert counselling["id"] == f"360G-demo-{dv004.id}"
    assert counselling["amountAwarded"] == 81000 and counselling["currency"] == "GBP"
    assert counselling["awardDate"] == "2012-03-01"
    assert counselling["plannedDates"] == [
        {"startDate": "2012-04-01", "endDate": "2014-03-31", "duration": 24}
    ]
    assert counselling["recipientOrganization"] == [
        {"id": "GB-CHC-1082016", "name": "The Woman's Trust", "charityNumber": "1082016"}
    ]
    helpline = grants["Rape crisis helpline and counselling (east London)"]
    assert helpline["recipientOrganization"][0]["name"] == "East London Rape Crisis Centre"
    assert helpline["recipientOrganization"][0]["id"].startswith("360G-demo-org-")
    assert [f["name"] for f in helpline["fundingOrganization"]] == [
        "London Borough of Barking and Dagenham",
        "Mayor's Office for Policing and Crime (MOPAC)",
    ]
    # A grant's readiness notes say what would make it better, without refusing it.
    readiness = service.readiness(session, contract_by_reference("LBBD-DV-007"), settings())
    assert readiness.is_grant and readiness.problems == []
    assert "East London Rape Crisis Centre has no charity, company or NHS number" in readiness.notes[0]


def test_a_register_that_cannot_be_published_lists_every_problem(demo: Flask) -> None:
    change_contract("LBBD-DV-005", award_date=None)
    change_contract("LBBD-DV-007", award_date=None, description="")
    with pytest.raises(service.ExportRefused) as refused:
        register_package(BD_BOARD)
    assert [(p.reference, p.field) for p in refused.value.problems] == [
        ("LBBD-DV-005", "award_date"),
        ("LBBD-DV-007", "award_date"),
    ]
    errors = refused.value.errors(by_contract=True)
    assert errors["LBBD-DV-007 award_date"].startswith(
        "LBBD-DV-007: Enter the award date under Change details"
    )
    session = db.session()
    with pytest.raises(service.ExportRefused) as grants:
        service.register_grants(
            session, service.contracts_in_scope(session, None, None), settings(), today(), None
        )
    assert [(p.reference, p.field) for p in grants.value.problems] == [
        ("LBBD-DV-007", "award_date"),
        ("LBBD-DV-007", "description"),
    ]


def test_flask_export_commands(demo: Flask, tmp_path: Path, offline: None) -> None:
    runner = demo.test_cli_runner()
    target = tmp_path / "ocds.json"
    result = runner.invoke(args=["export", "ocds", "-o", str(target), "--base-url", SERVICE_URL])
    assert result.exit_code == 0, result.output
    assert f"OCDS: 9 contracts, 12 releases; written to {target}" in result.output
    assert_valid_ocds(parsed(target.read_text()))
    board = tmp_path / "bd.json"
    # The tests' app has no SERVICE_URL: the command asks for one rather than publish a relative uri.
    result = runner.invoke(
        args=["export", "ocds", "-o", str(board), "--partnership", "Barking and Dagenham Health"]
    )
    assert result.exit_code == 2 and "set SERVICE_URL" in result.output
    demo.config["SERVICE_URL"] = SERVICE_URL
    result = runner.invoke(
        args=["export", "ocds", "-o", str(board), "--partnership", "Barking and Dagenham Health"]
    )
    assert result.exit_code == 0, result.output
    assert {r["ocid"] for r in parsed(board.read_text())["releases"]} == {
        f"ocds-demo00-{contract_by_reference(f'LBBD-DV-00{n}').id}" for n in range(1, 8)
    }
    grants = tmp_path / "grants.json"
    result = runner.invoke(
        args=["export", "360giving", "-o", str(grants), "--commissioner", "Barking and Dagenham"]
    )
    assert result.exit_code == 1 and "matches more than one" in result.output  # the council and the CCG
    result = runner.invoke(
        args=[
            "export",
            "360giving",
            "-o",
            str(grants),
            "--commissioner",
            "London Borough of Barking and Dagenham",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "360Giving: 2 grants" in result.output
    assert_valid_giving(parsed(grants.read_text()))


def test_flask_export_refuses_bad_requests_plainly(demo: Flask, tmp_path: Path) -> None:
    runner = demo.test_cli_runner()
    target = tmp_path / "out.json"
    both = runner.invoke(
        args=["export", "ocds", "-o", str(target), "--partnership", "x", "--commissioner", "y"]
    )
    assert both.exit_code == 2 and "not both" in both.output
    unknown = runner.invoke(args=["export", "360giving", "--partnership", "No Such Board", "-o", str(target)])
    assert unknown.exit_code == 1 and 'No partnership is called "No Such Board"' in unknown.output
    none = runner.invoke(
        args=["export", "360giving", "--commissioner", "Halton Borough Council", "-o", str(target)]
    )
    assert (
        none.exit_code == 1
        and "Nothing to publish from the contracts Halton Borough Council commissions: none of them is paid as a grant"
        in none.output
    )
    change_contract("TRI-VAWG-01", award_date=None)
    refused = runner.invoke(args=["export", "ocds", "-o", str(target), "--base-url", SERVICE_URL])
    assert refused.exit_code == 1
    assert "Nothing was written: 1 contract cannot be published yet." in refused.output
    assert "TRI-VAWG-01 award_date: Enter the award date under Change details" in refused.output
    assert "Traceback" not in refused.output
    assert not target.exists()
    unwritable = runner.invoke(
        args=["export", "360giving", "-o", str(tmp_path / "missing" / "x.json")], catch_exceptions=False
    )
    assert unwritable.exit_code == 1 and "Could not write" in unwritable.output
