"""Contracts: versions of their terms, who sees them, monthly snapshots and renewal dates."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from monitor.access.viewers import ORGANISATION_PREFIX, PARTNERSHIP_PREFIX
from monitor.contracts.models import ENDING_KINDS, OptionState
from monitor.contracts.renewal import Ending, Leads, Status, Terms, assess, last_notice_date, options_lapsed

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
    # Back in the probe's order and index, so each date before its contract
    # started takes its own contract's first version, not another row's.
    merged = merged.reset_index(drop=True)
    first = probe["contract_id"] * VERSION_BASE + 1
    return merged["contract_version_key"].fillna(first).astype("int64")


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
        viewer=ORGANISATION_PREFIX + commissioners["organisation_id"].astype(str),
        viewer_kind="commissioner",
        viewer_name=commissioners["organisation_id"].map(names).fillna(""),
    )
    boards = commissioners.merge(members, on="organisation_id").merge(partnerships, on="partnership_id")
    board = boards.assign(
        viewer=PARTNERSHIP_PREFIX + boards["partnership_id"].astype(str),
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


def _remaining_options(options: pd.DataFrame) -> dict[int, tuple[int, ...]]:
    """Each contract's options still available, in their order, as months."""
    available = options[options["state"] == OptionState.AVAILABLE.value].sort_values(
        ["contract_id", "sequence"], kind="stable"
    )
    found: dict[int, list[int]] = {}
    for contract_id, months in zip(available["contract_id"], available["length_months"], strict=True):
        found.setdefault(int(contract_id), []).append(int(months))
    return {contract_id: tuple(months) for contract_id, months in found.items()}


def _endings(amendments: pd.DataFrame) -> dict[int, Ending]:
    """Each contract's latest termination or decommissioning."""
    ending = amendments[amendments["kind"].isin(ENDING_VALUES)].sort_values(
        ["effective_date", "amendment_id"], kind="stable"
    )
    last = ending.drop_duplicates("contract_id", keep="last")
    return {
        int(contract_id): Ending(kind=kind, effective_date=effective)
        for contract_id, kind, effective in zip(
            last["contract_id"], last["kind"], last["effective_date"], strict=True
        )
    }


def renewals(
    contracts: pd.DataFrame,
    options: pd.DataFrame,
    amendments: pd.DataFrame,
    today: date,
    leads: Leads,
) -> pd.DataFrame:
    """Renewal dates and status as at `today`, by the register's own rules.
    Options and endings are gathered once for all contracts rather than by
    filtering the frames contract by contract, which at national scale
    (thousands of contracts) would weigh on every roll of the date."""
    remaining_of, ending_of = _remaining_options(options), _endings(amendments)
    rows = []
    for contract in contracts.itertuples(index=False):
        terms = Terms(
            start_date=contract.start_date,
            end_date=contract.end_date,
            original_end_date=contract.original_end_date,
            notice_months=int(contract.notice_period_months),
            remaining_option_months=remaining_of.get(int(contract.contract_id), ()),
            award_date=contract.award_date if pd.notna(contract.award_date) else None,
            ending=ending_of.get(int(contract.contract_id)),
        )
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
                # Options lapse with the contract: none is left to take up after its end.
                "options_remaining": 0
                if options_lapsed(terms, today)
                else len(terms.remaining_option_months),
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


def snapshots(
    contracts: pd.DataFrame,
    versions: pd.DataFrame,
    amendments: pd.DataFrame,
    today: date,
) -> pd.DataFrame:
    """Each contract's status on the first of every month from the month it
    starts to today (or its end), by the terms in force that month and the
    same rules as `renewal.derive_status`."""
    columns = [
        "snapshot_month",
        "contract_id",
        "contract_version_key",
        "status",
        "days_to_end",
        "days_to_notice",
    ]
    if contracts.empty:
        return pd.DataFrame(columns=columns)
    start = pd.to_datetime(contracts["start_date"])
    last = pd.to_datetime(contracts["end_date"]).clip(upper=pd.Timestamp(today))
    first_index = start.dt.year * 12 + start.dt.month - 1
    count = (last.dt.year * 12 + last.dt.month - 1 - first_index + 1).clip(lower=0)
    rows = contracts.loc[contracts.index.repeat(count)].reset_index(drop=True)
    offset = rows.groupby("contract_id").cumcount()
    month_index = first_index.repeat(count).reset_index(drop=True) + offset
    month = pd.to_datetime(pd.DataFrame({"year": month_index // 12, "month": month_index % 12 + 1, "day": 1}))
    keys = version_in_force(versions, rows["contract_id"], month.dt.date)
    by_key = versions.set_index("contract_version_key")
    end = pd.to_datetime(keys.map(by_key["end_date"]))
    notice_of = {
        row.contract_version_key: last_notice_date(row.end_date, int(months))
        for row, months in zip(
            versions.itertuples(index=False),
            versions["contract_id"].map(contracts.set_index("contract_id")["notice_period_months"]),
            strict=True,
        )
    }
    notice = pd.to_datetime(keys.map(notice_of))
    endings = amendments[amendments["kind"].isin(ENDING_VALUES)].sort_values("effective_date")
    ending = endings.drop_duplicates("contract_id", keep="last").set_index("contract_id")
    ended_on = pd.to_datetime(rows["contract_id"].map(ending["effective_date"]))
    ending_kind = rows["contract_id"].map(ending["kind"])
    award = pd.to_datetime(rows["award_date"])
    started = pd.to_datetime(rows["start_date"])
    original_end = pd.to_datetime(rows["original_end_date"])
    status = np.select(
        [
            ended_on.notna() & (ended_on <= month) & ending_kind.eq("termination"),
            ended_on.notna() & (ended_on <= month),
            (month < started) & award.notna() & (award <= month),
            month < started,
            month > end,
            end > original_end,
        ],
        [
            Status.TERMINATED.value,
            Status.DECOMMISSIONED.value,
            Status.MOBILISING.value,
            Status.PIPELINE.value,
            Status.EXPIRED.value,
            Status.EXTENDED.value,
        ],
        default=Status.LIVE.value,
    )
    return pd.DataFrame(
        {
            "snapshot_month": month.dt.date,
            "contract_id": rows["contract_id"],
            "contract_version_key": keys,
            "status": status,
            "days_to_end": (end - month).dt.days,
            "days_to_notice": (notice - month).dt.days,
        }
    )[columns]
