"""return replies: a provider answers a commissioner's query in words

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "return_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("query_event_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("text <> ''", name=op.f("ck_return_replies_text_not_empty")),
        sa.ForeignKeyConstraint(
            ["by_id"], ["users.id"], name=op.f("fk_return_replies_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["query_event_id"],
            ["return_events.id"],
            name=op.f("fk_return_replies_query_event_id_return_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
            name=op.f("fk_return_replies_return_id_returns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_replies")),
    )
    with op.batch_alter_table("return_replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_replies_return_id"), ["return_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_return_replies_query_event_id"), ["query_event_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("return_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_replies_query_event_id"))
        batch_op.drop_index(batch_op.f("ix_return_replies_return_id"))
    op.drop_table("return_replies")
