"""benchmarking: partnerships' dated decisions to be compared, their regions and similar-areas groups

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Written out rather than imported, so this migration builds the same table
# whatever monitor.benchmarking.vocabulary later says.
REGIONS_CHECK = (
    "region IN ('North East', 'North West', 'Yorkshire and The Humber', 'East Midlands', "
    "'West Midlands', 'East of England', 'London', 'South East', 'South West', 'Wales')"
)


def upgrade() -> None:
    op.create_table(
        "benchmarking_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("approver_name", sa.String(length=200), nullable=False),
        sa.Column("approver_role", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("approver_name <> ''", name=op.f("ck_benchmarking_decisions_approver_named")),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnerships.id"],
            name=op.f("fk_benchmarking_decisions_partnership_id_partnerships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_benchmarking_decisions_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benchmarking_decisions")),
        sa.UniqueConstraint(
            "partnership_id",
            "decided_on",
            name=op.f("uq_benchmarking_decisions_partnership_id_decided_on"),
        ),
    )
    op.create_table(
        "area_regions",
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.CheckConstraint(REGIONS_CHECK, name=op.f("ck_area_regions_region_allowed")),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnerships.id"],
            name=op.f("fk_area_regions_partnership_id_partnerships"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partnership_id", name=op.f("pk_area_regions")),
    )
    op.create_table(
        "comparison_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_comparison_groups_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comparison_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_comparison_groups_name")),
    )
    op.create_table(
        "comparison_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["comparison_groups.id"],
            name=op.f("fk_comparison_group_members_group_id_comparison_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnerships.id"],
            name=op.f("fk_comparison_group_members_partnership_id_partnerships"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "partnership_id", name=op.f("pk_comparison_group_members")),
    )


def downgrade() -> None:
    op.drop_table("comparison_group_members")
    op.drop_table("comparison_groups")
    op.drop_table("area_regions")
    op.drop_table("benchmarking_decisions")
