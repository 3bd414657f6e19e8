"""Contracts: versions of their terms, who sees them, monthly snapshots and renewal dates."""

from __future__ import annotations

from datetime import date

import pandas as pd
from dateutil.relativedelta import relativedelta

from monitor.contracts.models import ENDING_KINDS, OptionState
from monitor.contracts.renewal import Ending, Leads, Terms, assess, derive_status, last_notice_date

VERSION_BASE = 1000  # contract_version_key = contract_id * VERSION_BASE + version
ENDING_VALUES = {kind.value for kind in ENDING_KINDS}


def dim_contract(
    contracts: pd.DataFrame, amendments: pd.DataFrame, organisations: pd.DataFrame
) -> pd.DataFrame:
    """One row per version of each contract's terms. Version 1 is the award
    with the original end date; each extension or variation that moved the
    end date starts a new version on its effective date."""
    names = organisations.set_index("organisation_id")["name"]
    moves = amendments[amendments["new_end_date"].notna() & ~amendments["kind"].isin(ENDING_VALUES)]
    moves = moves.sort_values(["contract_id", "effective_date", "amendment_id"])
    by_contract = {cid: group for cid, group in moves.groupby("contract_id")}
    rows = []
    for contract in contracts.itertuples(index=False):
        versions = [(contract.start_date, contract.original_end_date)]
        for change in by_contract.get(contract.contract_id, pd.DataFrame()).itertuples(index=False):
            versions.append((max(change.effective_date, contract.start_date), change.new_end_date))
        for number, (valid_from, end_date) in enumerate(versions, start=1):
            is_current = number == len(versions)
            rows.append(
                {
                    "contract_version_key": contract.contract_id * VERSION_BASE + number,
                    "contract_id": contract.contract_id,
                    "version": number,
                    "valid_from": valid_from,
                    "valid_to": None if is_current else versions[number][0],
                    "is_current": is_current,
                    "reference": contract.reference,
                    "title": contract.title,
                    "service_type": contract.service_type,
                    "category": contract.category,
                    "agreement_type": contract.agreement_type,
                    "provider_id": contract.provider_id,
                    "provider_name": names.get(contract.provider_id, ""),
                    "lead_commissioner_id": contract.lead_commissioner_id,
                    "lead_commissioner_name": names.get(contract.lead_commissioner_id, ""),
                    "start_date": contract.start_date,
                    # The current version carries the register's end date, which
                    # includes any change not recorded as an amendment.
                    "end_date": contract.end_date if is_current else end_date,
                    "annual_value": contract.annual_value,
                }
            )
    return pd.DataFrame(rows, columns=DIM_CONTRACT_COLUMNS)


DIM_CONTRACT_COLUMNS = [
    "contract_version_key",
    "contract_id",
    "version",
    "valid_from",
    "valid_to",
    "is_current",
    "reference",
    "title",
    "service_type",
    "category",
    "agreement_type",
    "provider_id",
    "provider_name",
    "lead_commissioner_id",
    "lead_commissioner_name",
    "start_date",
    "end_date",
    "annual_value",
]


def version_in_force(versions: pd.DataFrame, contract_ids: pd.Series, on: pd.Series) -> pd.Series:
    """The contract_version_key in force on each date (the first version for
    dates before the contract started)."""
    if len(contract_ids) == 0:
        return pd.Series([], dtype="int64")
    lookup = versions[["contract_id", "valid_from", "contract_version_key"]].copy()
    lookup["valid_from"] = pd.to_datetime(lookup["valid_from"])
    probe = pd.DataFrame(
        {"contract_id": contract_ids.to_numpy(), "on": pd.to_datetime(on.to_numpy()), "row": range(len(on))}
    )
    merged = pd.merge_asof(
        probe.sort_values("on"),
        lookup.sort_values("valid_from"),
        left_on="on",
        right_on="valid_from",
        by="contract_id",
        direction="backward",
    ).sort_values("row")
    first = probe["contract_id"] * VERSION_BASE + 1
    return merged["contract_version_key"].fillna(first).astype("int64").reset_index(drop=True)


def contract_viewers(
    contracts: pd.DataFrame,
    partners: pd.DataFrame,
    organisations: pd.DataFrame,
    partnerships: pd.DataFrame,
    members: pd.DataFrame,
) -> pd.DataFrame:
    """Who sees each contract: each commissioner (lead or partner), unsuppressed,
    and each partnership one of them belongs to, as a board, suppressed."""
    commissioners = pd.concat(
        [
            contracts[["contract_id", "lead_commissioner_id"]].rename(
                columns={"lead_commissioner_id": "organisation_id"}
            ),
            partners[["contract_id", "organisation_id"]],
        ]
    ).drop_duplicates()
    names = organisations.set_index("organisation_id")["name"]
    own = commissioners.assign(
        viewer="organisation:" + commissioners["organisation_id"].astype(str),
        viewer_kind="commissioner",
        viewer_name=commissioners["organisation_id"].map(names).fillna(""),
    )
    boards = commissioners.merge(members, on="organisation_id").merge(partnerships, on="partnership_id")
    board = boards.assign(
        viewer="partnership:" + boards["partnership_id"].astype(str),
        viewer_kind="board",
        viewer_name=boards["name"],
    )
    columns = ["contract_id", "viewer", "viewer_kind", "viewer_name"]
    return (
        pd.concat([own[columns], board[columns]])
        .drop_duplicates(["contract_id", "viewer"])
        .sort_values(["contract_id", "viewer"])
        .reset_index(drop=True)
    )


def _terms(
    contract: object, options: pd.DataFrame, amendments: pd.DataFrame, end: date | None = None
) -> Terms:
    ending = amendments[amendments["kind"].isin(ENDING_VALUES)].sort_values("effective_date")
    last = ending.iloc[-1] if len(ending) else None
    return Terms(
        start_date=contract.start_date,  # type: ignore[attr-defined]
        end_date=end or contract.end_date,  # type: ignore[attr-defined]
        original_end_date=contract.original_end_date,  # type: ignore[attr-defined]
        notice_months=int(contract.notice_period_months),  # type: ignore[attr-defined]
        remaining_option_months=tuple(
            int(m)
            for m in options[options["state"] == OptionState.AVAILABLE.value]
            .sort_values("sequence")["length_months"]
            .tolist()
        ),
        award_date=contract.award_date if pd.notna(contract.award_date) else None,  # type: ignore[attr-defined]
        ending=Ending(kind=last["kind"], effective_date=last["effective_date"]) if last is not None else None,
    )


def _by_contract(frame: pd.DataFrame) -> dict[int, pd.DataFrame]:
    return {int(cid): group for cid, group in frame.groupby("contract_id")}


def renewals(
    contracts: pd.DataFrame,
    options: pd.DataFrame,
    amendments: pd.DataFrame,
    today: date,
    leads: Leads,
) -> pd.DataFrame:
    """Renewal dates and status as at `today`, by the register's own rules."""
    options_of, amendments_of = _by_contract(options), _by_contract(amendments)
    empty_options = options.iloc[0:0]
    empty_amendments = amendments.iloc[0:0]
    rows = []
    for contract in contracts.itertuples(index=False):
        contract_options = options_of.get(contract.contract_id, empty_options)
        terms = _terms(contract, contract_options, amendments_of.get(contract.contract_id, empty_amendments))
        renewal = assess(terms, today, leads)
        rows.append(
            {
                "contract_id": contract.contract_id,
                "status": renewal.status.value,
                "start_date": contract.start_date,
                "end_date": renewal.end_date,
                "max_extent_date": renewal.maximum_extent_date,
                "notice_date": renewal.last_notice_date,
                "decision_by_date": renewal.decision_by,
                "reprocurement_start_date": renewal.reprocurement_start,
                "days_to_end": (renewal.end_date - today).days,
                "days_to_notice": (renewal.last_notice_date - today).days,
                "options_remaining": len(terms.remaining_option_months),
                "annual_value": contract.annual_value,
                "as_at": today,
            }
        )
    return pd.DataFrame(rows, columns=RENEWAL_COLUMNS)


RENEWAL_COLUMNS = [
    "contract_id",
    "status",
    "start_date",
    "end_date",
    "max_extent_date",
    "notice_date",
    "decision_by_date",
    "reprocurement_start_date",
    "days_to_end",
    "days_to_notice",
    "options_remaining",
    "annual_value",
    "as_at",
]


def month_starts(first: date, last: date) -> list[date]:
    month, stop = first.replace(day=1), last.replace(day=1)
    months = []
    while month <= stop:
        months.append(month)
        month += relativedelta(months=1)
    return months


def snapshots(
    contracts: pd.DataFrame,
    versions: pd.DataFrame,
    options: pd.DataFrame,
    amendments: pd.DataFrame,
    today: date,
    since: date | None = None,
) -> pd.DataFrame:
    """Each contract's status on the first of every month from its start (or
    `since`) to `today`, with the terms in force that month."""
    options_of, amendments_of = _by_contract(options), _by_contract(amendments)
    versions_of = _by_contract(versions)
    empty_options, empty_amendments = options.iloc[0:0], amendments.iloc[0:0]
    rows = []
    for contract in contracts.itertuples(index=False):
        first = max(contract.start_date, since) if since else contract.start_date
        contract_versions = versions_of.get(contract.contract_id)
        contract_amendments = amendments_of.get(contract.contract_id, empty_amendments)
        contract_options = options_of.get(contract.contract_id, empty_options)
        for month in month_starts(first, min(today, contract.end_date)):
            in_force = _version_on(contract_versions, month, contract.contract_id)
            end = in_force[1]
            served = contract_amendments[contract_amendments["effective_date"] <= month]
            status = derive_status(_terms(contract, contract_options, served, end), month)
            notice = last_notice_date(end, int(contract.notice_period_months))
            rows.append(
                {
                    "snapshot_month": month,
                    "contract_id": contract.contract_id,
                    "contract_version_key": in_force[0],
                    "status": status.value,
                    "days_to_end": (end - month).days,
                    "days_to_notice": (notice - month).days,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "snapshot_month",
            "contract_id",
            "contract_version_key",
            "status",
            "days_to_end",
            "days_to_notice",
        ],
    )


def _version_on(versions: pd.DataFrame | None, day: date, contract_id: int) -> tuple[int, date]:
    if versions is None or versions.empty:
        raise ValueError(f"contract {contract_id} has no versions")
    valid = versions[versions["valid_from"] <= day]
    row = (valid if len(valid) else versions).sort_values("version").iloc[-1 if len(valid) else 0]
    return int(row["contract_version_key"]), row["end_date"]
