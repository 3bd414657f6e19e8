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
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("initial_value", sa.Numeric(precision=14, scale=2), nullable=True))
    # Until now the stored total was what was entered; the app recomputes the total
    # of the terms in force from it the next time the contract changes.
    op.execute("UPDATE contracts SET initial_value = total_value")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.alter_column(
            "initial_value", existing_type=sa.Numeric(precision=14, scale=2), nullable=False
        )
        batch_op.create_check_constraint(
            op.f("ck_contracts_initial_value_not_negative"), "initial_value >= 0"
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
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_contracts_initial_value_not_negative"), type_="check")
        batch_op.drop_column("initial_value")
