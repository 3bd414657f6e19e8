"""safe accommodation contracts: which contracts count towards an authority's statutory return each year

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "safe_accommodation_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("financial_year", sa.String(length=7), nullable=False),
        sa.Column("flagged_by_id", sa.Integer(), nullable=True),
        sa.Column("flagged_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "financial_year LIKE '____/__'",
            name=op.f("ck_safe_accommodation_contracts_financial_year_format"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_safe_accommodation_contracts_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["flagged_by_id"],
            ["users.id"],
            name=op.f("fk_safe_accommodation_contracts_flagged_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safe_accommodation_contracts")),
        sa.UniqueConstraint(
            "contract_id",
            "financial_year",
            name=op.f("uq_safe_accommodation_contracts_contract_id_financial_year"),
        ),
    )
    with op.batch_alter_table("safe_accommodation_contracts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safe_accommodation_contracts_contract_id"), ["contract_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("safe_accommodation_contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safe_accommodation_contracts_contract_id"))
    op.drop_table("safe_accommodation_contracts")
