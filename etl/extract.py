"""Read what the warehouse needs from the app database into DataFrames.

Only register data and accepted returns leave the app: no users, no files,
no commentary, no draft figures. The framework carries each contract's
first and last day in force, so the targets of part quarters are pro-rated. `contracts` limits the contract-level
extracts to some contracts (an incremental run); None reads them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Connection, Select, and_, select
from sqlalchemy.orm import Session

from etl.load import chunks
from etl.transform.periods import contract_days
from monitor.audit import AuditEvent
from monitor.auth.models import Organisation, Partnership, partnership_members
from monitor.benchmarking.models import (
    AreaRegion,
    BenchmarkingDecision,
    ComparisonGroup,
    ComparisonGroupMember,
)
from monitor.benchmarking.service import opted_in_areas
from monitor.benchmarking.vocabulary import ALL_AREAS_NAME, REGIONS, GroupKind, region_group_name
from monitor.contracts.models import (
    Amendment,
    Contract,
    ContractCohort,
    ExtensionOption,
    FundingLine,
    contract_partners,
)
from monitor.kpis.models import (
    FrameworkItem,
    Kpi,
    OutcomeScore,
    Return,
    ReturnValue,
    ReturnVersion,
    latest_submitted,
)
from monitor.kpis.vocabulary import ReturnState


@dataclass
class Extract:
    organisations: pd.DataFrame
    partnerships: pd.DataFrame
    partnership_members: pd.DataFrame
    kpis: pd.DataFrame
    contracts: pd.DataFrame
    partners: pd.DataFrame
    cohorts: pd.DataFrame
    options: pd.DataFrame
    amendments: pd.DataFrame
    funding: pd.DataFrame
    framework: pd.DataFrame  # with contract_start and contract_last_day
    values: pd.DataFrame
    outcome_scores: pd.DataFrame

    def sizes(self) -> dict[str, int]:
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}


def read_frame(connection: Connection, query: Select, columns: list[str]) -> pd.DataFrame:
    # Plain tuples: pandas probes each SQLAlchemy Row as a mapping first.
    rows = [tuple(row) for row in connection.execute(query)]
    return pd.DataFrame.from_records(rows, columns=columns)


def _per_contract(
    connection: Connection,
    query: Select,
    contract_column: object,
    columns: list[str],
    contracts: Collection[int] | None,
) -> pd.DataFrame:
    if contracts is None:
        return read_frame(connection, query, columns)
    parts = [
        read_frame(connection, query.where(contract_column.in_(chunk)), columns)  # type: ignore[attr-defined]
        for chunk in chunks(sorted(contracts))
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


# Read by a full or incremental run (extract) and by a roll (etl.roll) alike.
COHORTS = select(ContractCohort.contract_id, ContractCohort.cohort)
COHORT_COLUMNS = ["contract_id", "cohort"]
OPTIONS = select(
    ExtensionOption.contract_id,
    ExtensionOption.sequence,
    ExtensionOption.length_months,
    ExtensionOption.state,
)
OPTION_COLUMNS = ["contract_id", "sequence", "length_months", "state"]
AMENDMENTS = select(
    Amendment.contract_id,
    Amendment.id,
    Amendment.kind,
    Amendment.effective_date,
    Amendment.old_end_date,
    Amendment.new_end_date,
)
AMENDMENT_COLUMNS = ["contract_id", "amendment_id", "kind", "effective_date", "old_end_date", "new_end_date"]


def accepted_versions() -> Select:
    """The figures of an accepted return are its latest submitted version's."""
    latest = latest_submitted()
    return (
        select(ReturnVersion.id.label("version_id"), Return.contract_id, Return.period)
        .join(Return, Return.id == ReturnVersion.return_id)
        .join(
            latest,
            and_(latest.c.return_id == ReturnVersion.return_id, latest.c.number == ReturnVersion.number),
        )
        .where(Return.state == ReturnState.ACCEPTED.value)
    )


def extract(connection: Connection, contracts: Collection[int] | None = None) -> Extract:
    """Everything one run needs. Small reference tables are always read whole."""
    accepted = accepted_versions().subquery()

    def per_contract(query: Select, column: object, columns: list[str]) -> pd.DataFrame:
        return _per_contract(connection, query, column, columns, contracts)

    found = Extract(
        organisations=read_frame(
            connection,
            select(
                Organisation.id,
                Organisation.name,
                Organisation.kind,
                Organisation.charity_number,
                Organisation.company_number,
            ),
            ["organisation_id", "name", "kind", "charity_number", "company_number"],
        ),
        partnerships=read_frame(
            connection, select(Partnership.id, Partnership.name), ["partnership_id", "name"]
        ),
        partnership_members=read_frame(
            connection,
            select(partnership_members.c.partnership_id, partnership_members.c.organisation_id),
            ["partnership_id", "organisation_id"],
        ),
        kpis=read_frame(
            connection,
            select(Kpi.id, Kpi.code, Kpi.name, Kpi.unit, Kpi.direction, Kpi.category, Kpi.rollup),
            ["kpi_id", "code", "name", "unit", "direction", "category", "rollup"],
        ),
        contracts=per_contract(
            select(
                Contract.id,
                Contract.reference,
                Contract.title,
                Contract.service_type,
                Contract.category,
                Contract.agreement_type,
                Contract.provider_id,
                Contract.lead_commissioner_id,
                Contract.start_date,
                Contract.original_end_date,
                Contract.end_date,
                Contract.award_date,
                Contract.notice_period_months,
                Contract.annual_value,
            ),
            Contract.id,
            [
                "contract_id",
                "reference",
                "title",
                "service_type",
                "category",
                "agreement_type",
                "provider_id",
                "lead_commissioner_id",
                "start_date",
                "original_end_date",
                "end_date",
                "award_date",
                "notice_period_months",
                "annual_value",
            ],
        ),
        partners=per_contract(
            select(contract_partners.c.contract_id, contract_partners.c.organisation_id),
            contract_partners.c.contract_id,
            ["contract_id", "organisation_id"],
        ),
        cohorts=per_contract(COHORTS, ContractCohort.contract_id, COHORT_COLUMNS),
        options=per_contract(OPTIONS, ExtensionOption.contract_id, OPTION_COLUMNS),
        amendments=per_contract(AMENDMENTS, Amendment.contract_id, AMENDMENT_COLUMNS),
        funding=per_contract(
            select(
                FundingLine.contract_id,
                FundingLine.funder_id,
                FundingLine.funding_stream,
                FundingLine.financial_year,
                FundingLine.amount,
            ),
            FundingLine.contract_id,
            ["contract_id", "funder_id", "funding_stream", "financial_year", "amount"],
        ),
        framework=per_contract(
            select(
                FrameworkItem.contract_id,
                FrameworkItem.kpi_id,
                FrameworkItem.target,
                FrameworkItem.target_basis,
                FrameworkItem.amber_tolerance_pct,
                FrameworkItem.direction,
                FrameworkItem.effective_from,
                FrameworkItem.effective_to,
            ),
            FrameworkItem.contract_id,
            [
                "contract_id",
                "kpi_id",
                "target",
                "target_basis",
                "amber_tolerance_pct",
                "direction",
                "effective_from",
                "effective_to",
            ],
        ),
        values=per_contract(
            select(
                accepted.c.contract_id,
                accepted.c.period,
                ReturnValue.kpi_id,
                ReturnValue.breakdown,
                ReturnValue.value,
                ReturnValue.numerator,
                ReturnValue.denominator,
            ).join(accepted, accepted.c.version_id == ReturnValue.version_id),
            accepted.c.contract_id,
            ["contract_id", "period_key", "kpi_id", "breakdown", "actual", "numerator", "denominator"],
        ),
        outcome_scores=per_contract(
            select(
                accepted.c.contract_id,
                accepted.c.period,
                OutcomeScore.measure,
                OutcomeScore.informant,
                OutcomeScore.pre_score,
                OutcomeScore.post_score,
            ).join(accepted, accepted.c.version_id == OutcomeScore.version_id),
            accepted.c.contract_id,
            ["contract_id", "period_key", "measure", "informant", "pre_score", "post_score"],
        ),
    )
    found.framework = found.framework.merge(
        contract_days(found.contracts, found.amendments), on="contract_id", how="left"
    )
    return found


def changed_contracts(connection: Connection, since: datetime) -> set[int]:
    """Contracts whose register entry, framework or returns changed after `since`
    (the audit log records every change, deletions included)."""
    changed = set(connection.scalars(select(Contract.id).where(Contract.updated_at > since)))
    changed |= set(connection.scalars(select(Return.contract_id).where(Return.updated_at > since)))
    changed |= {
        cid
        for cid in connection.scalars(
            select(AuditEvent.contract_id).where(AuditEvent.at > since, AuditEvent.contract_id.is_not(None))
        )
        if cid is not None
    }
    return changed


@dataclass
class Benchmarking:
    """Who is compared with whom on a day: the opted-in areas with their
    names, and each comparison group's opted-in members."""

    areas: pd.DataFrame  # area_id, area_name
    groups: pd.DataFrame  # group_name, group_kind, group_sort, area_id
    members: pd.DataFrame  # area_id, organisation_id: the areas' member commissioners


def benchmarking(connection: Connection, on: date) -> Benchmarking:
    """The comparison groups in force on `on`, as monitor.benchmarking.service
    draws them for one area (comparison_groups_for), for every area at once:
    all areas, each region's areas and each similar-areas group, with only
    the areas whose decision in force on `on` is to take part."""
    with Session(bind=connection) as session:
        taking_part = sorted(opted_in_areas(session, on))
    names = read_frame(
        connection,
        select(Partnership.id, Partnership.name).order_by(Partnership.id),
        ["area_id", "area_name"],
    )
    areas = names[names["area_id"].isin(taking_part)].reset_index(drop=True)
    regions = read_frame(
        connection, select(AreaRegion.partnership_id, AreaRegion.region), ["area_id", "region"]
    )
    similar = read_frame(
        connection,
        select(ComparisonGroup.name, ComparisonGroupMember.partnership_id)
        .join(ComparisonGroupMember, ComparisonGroupMember.group_id == ComparisonGroup.id)
        .order_by(ComparisonGroup.name),
        ["group_name", "area_id"],
    )
    # All areas first, then the regions in the ONS's order, then the similar-areas groups by name.
    region_order = {region: number for number, region in enumerate(REGIONS, start=1)}
    similar_order = {
        name: len(REGIONS) + number for number, name in enumerate(sorted(set(similar["group_name"])), 1)
    }
    parts = [
        areas[["area_id"]].assign(
            group_name=ALL_AREAS_NAME, group_kind=GroupKind.ALL_AREAS.value, group_sort=0
        ),
        regions.assign(
            group_name=regions["region"].map(region_group_name),
            group_kind=GroupKind.REGION.value,
            group_sort=regions["region"].map(region_order),
        )[["area_id", "group_name", "group_kind", "group_sort"]],
        similar.assign(
            group_kind=GroupKind.SIMILAR_AREAS.value, group_sort=similar["group_name"].map(similar_order)
        ),
    ]
    groups = pd.concat(parts, ignore_index=True)
    groups = groups[groups["area_id"].isin(taking_part)]
    members = read_frame(
        connection,
        select(partnership_members.c.partnership_id, partnership_members.c.organisation_id),
        ["area_id", "organisation_id"],
    )
    return Benchmarking(
        areas=areas,
        groups=groups[["group_name", "group_kind", "group_sort", "area_id"]].reset_index(drop=True),
        members=members[members["area_id"].isin(taking_part)].reset_index(drop=True),
    )


def reference_fingerprint(connection: Connection) -> str:
    """A digest of what shapes every viewer's rows: organisations (names and
    kinds), partnerships and their members, the KPI library, and who is
    compared with whom (benchmarking decisions, regions and similar-areas
    groups: the comparison mart is every area's, so a change there is a
    full run's work)."""
    digest = hashlib.sha256()
    for query in (
        select(Organisation.id, Organisation.name, Organisation.kind).order_by(Organisation.id),
        select(Partnership.id, Partnership.name).order_by(Partnership.id),
        select(partnership_members.c.partnership_id, partnership_members.c.organisation_id).order_by(
            partnership_members.c.partnership_id, partnership_members.c.organisation_id
        ),
        select(Kpi.id, Kpi.code, Kpi.name, Kpi.unit, Kpi.direction, Kpi.category, Kpi.rollup).order_by(
            Kpi.id
        ),
        select(
            BenchmarkingDecision.partnership_id,
            BenchmarkingDecision.decided_on,
            BenchmarkingDecision.opted_in,
        ).order_by(BenchmarkingDecision.partnership_id, BenchmarkingDecision.decided_on),
        select(AreaRegion.partnership_id, AreaRegion.region).order_by(AreaRegion.partnership_id),
        select(ComparisonGroup.id, ComparisonGroup.name).order_by(ComparisonGroup.id),
        select(ComparisonGroupMember.group_id, ComparisonGroupMember.partnership_id).order_by(
            ComparisonGroupMember.group_id, ComparisonGroupMember.partnership_id
        ),
    ):
        for row in connection.execute(query):
            digest.update(repr(tuple(row)).encode())
        digest.update(b"|")
    return digest.hexdigest()
