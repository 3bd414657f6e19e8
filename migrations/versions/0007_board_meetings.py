"""board meetings, and the delivery of each meeting's pack to its members

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partnership_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnerships.id"],
            name=op.f("fk_partnership_meetings_partnership_id_partnerships"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership_meetings")),
        sa.UniqueConstraint(
            "partnership_id", "meeting_date", name=op.f("uq_partnership_meetings_partnership_id_meeting_date")
        ),
    )
    with op.batch_alter_table("partnership_meetings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partnership_meetings_partnership_id"), ["partnership_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_partnership_meetings_meeting_date"), ["meeting_date"], unique=False
        )
    op.create_table(
        "board_pack_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=True),
        sa.Column("failure", sa.String(length=1000), nullable=True),
        sa.Column("failure_reported_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("recipients >= 0", name=op.f("ck_board_pack_deliveries_recipients_not_negative")),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["partnership_meetings.id"],
            name=op.f("fk_board_pack_deliveries_meeting_id_partnership_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_pack_deliveries")),
        sa.UniqueConstraint("meeting_id", name=op.f("uq_board_pack_deliveries_meeting_id")),
    )
    op.create_table(
        "board_pack_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["board_pack_deliveries.id"],
            name=op.f("fk_board_pack_recipients_delivery_id_board_pack_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_pack_recipients")),
        sa.UniqueConstraint("delivery_id", "email", name=op.f("uq_board_pack_recipients_delivery_id_email")),
    )


def downgrade() -> None:
    op.drop_table("board_pack_recipients")
    op.drop_table("board_pack_deliveries")
    with op.batch_alter_table("partnership_meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partnership_meetings_meeting_date"))
        batch_op.drop_index(batch_op.f("ix_partnership_meetings_partnership_id"))
    op.drop_table("partnership_meetings")
