"""register: initial value, planned amendments, correcting amendments

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_KINDS_BEFORE = "kind IN ('extension', 'variation', 'value change', 'termination', 'decommissioning')"
_KINDS_AFTER = (
    "kind IN ('extension', 'variation', 'value change', 'termination', 'decommissioning', 'correction')"
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # Added in place, never by copying the table: on SQLite a copy drops the old
    # contracts table, and with foreign keys on that deletes every option,
    # amendment and funding line through their ON DELETE CASCADE.
    op.add_column(
        "contracts",
        sa.Column("initial_value", sa.Numeric(precision=14, scale=2), nullable=False, server_default="0"),
    )
    # Until now the stored total was what was entered, never moved by an extension
    # or an ending: keep it as the initial term's value, and work out the total of
    # the terms in force from it below.
    op.execute("UPDATE contracts SET initial_value = total_value")
    if not sqlite:
        # SQLite can neither drop a default nor add a check without copying the table;
        # there the service's rule (never negative) stands alone, and the default stays.
        op.alter_column("contracts", "initial_value", server_default=None)
        op.create_check_constraint(
            op.f("ck_contracts_initial_value_not_negative"), "contracts", "initial_value >= 0"
        )

    with op.batch_alter_table("amendments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("corrects_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_amendments_corrects_id_amendments"),
            "amendments",
            ["corrects_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_amendments_corrects_id"), ["corrects_id"], unique=False)
        batch_op.drop_constraint(op.f("ck_amendments_kind_allowed"), type_="check")
        batch_op.create_check_constraint(op.f("ck_amendments_kind_allowed"), _KINDS_AFTER)
        batch_op.create_check_constraint(
            op.f("ck_amendments_correction_names_what_it_corrects"),
            "(kind = 'correction') = (corrects_id IS NOT NULL)",
        )
    with op.batch_alter_table("amendments", schema=None) as batch_op:
        batch_op.alter_column("planned", server_default=None)
    _recompute_totals()


def _recompute_totals() -> None:
    """Set each contract's total to the value of its terms in force.

    A snapshot of the rule in monitor.contracts.value as it stood at this
    revision, so the migration gives the same result whatever the code does later.
    """
    from datetime import date
    from decimal import ROUND_HALF_UP, Decimal

    from dateutil.relativedelta import relativedelta

    def extend_end(end: date, months: int) -> date:
        start = end + relativedelta(days=1)
        shifted = start + relativedelta(months=months)
        if shifted.day != start.day:
            shifted += relativedelta(days=1)
        return shifted - relativedelta(days=1)

    def months_between(end: date, later_end: date) -> Decimal:
        if later_end <= end:
            return Decimal(0)
        whole = 0
        while extend_end(end, whole + 1) <= later_end:
            whole += 1
        reached = extend_end(end, whole)
        left = (later_end - reached).days
        if left == 0:
            return Decimal(whole)
        return Decimal(whole) + Decimal(left) / Decimal((extend_end(reached, 1) - reached).days)

    bind = op.get_bind()
    contracts = sa.table(
        "contracts",
        sa.column("id", sa.Integer),
        sa.column("initial_value", sa.Numeric(14, 2)),
        sa.column("annual_value", sa.Numeric(14, 2)),
        sa.column("total_value", sa.Numeric(14, 2)),
    )
    amendments = sa.table(
        "amendments",
        sa.column("id", sa.Integer),
        sa.column("contract_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("old_end_date", sa.Date),
        sa.column("new_end_date", sa.Date),
        sa.column("new_value", sa.Numeric(14, 2)),
    )
    history: dict[int, list[sa.Row[tuple[object, ...]]]] = {}
    for row in bind.execute(sa.select(amendments).order_by(amendments.c.id)):
        history.setdefault(row.contract_id, []).append(row)
    for contract in bind.execute(sa.select(contracts)).all():
        value = Decimal(contract.initial_value)
        annual = Decimal(contract.annual_value)
        for change in history.get(contract.id, []):
            if change.kind == "value change" and change.new_value is not None:
                value = Decimal(change.new_value)
            elif change.old_end_date is not None and change.new_end_date is not None:
                if change.kind == "extension":
                    value += annual * months_between(change.old_end_date, change.new_end_date) / 12
                elif change.kind in ("termination", "decommissioning"):
                    value -= annual * months_between(change.new_end_date, change.old_end_date) / 12
        total = max(value, Decimal(0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        bind.execute(sa.update(contracts).where(contracts.c.id == contract.id).values(total_value=total))


def downgrade() -> None:
    op.execute("DELETE FROM amendments WHERE kind = 'correction'")
    with op.batch_alter_table("amendments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_amendments_correction_names_what_it_corrects"), type_="check")
        batch_op.drop_constraint(op.f("ck_amendments_kind_allowed"), type_="check")
        batch_op.create_check_constraint(op.f("ck_amendments_kind_allowed"), _KINDS_BEFORE)
        batch_op.drop_index(batch_op.f("ix_amendments_corrects_id"))
        batch_op.drop_constraint(batch_op.f("fk_amendments_corrects_id_amendments"), type_="foreignkey")
        batch_op.drop_column("corrects_id")
        batch_op.drop_column("planned")
    # The total goes back to what was entered, as before this revision.
    op.execute("UPDATE contracts SET total_value = initial_value")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_contracts_initial_value_not_negative"), "contracts", type_="check")
    # In place (SQLite 3.35 and later), for the same reason as in upgrade.
    op.drop_column("contracts", "initial_value")
