"""returns: identical uploads, needs resubmission

An identical upload is recognised by the SHA-256 every version has kept since
0002, so it needs no new column. A return the framework has left incomplete is
marked here, with the reason the provider is told.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("needs_resubmission", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("resubmission_reason", sa.Text(), nullable=False, server_default=""))
        batch_op.create_check_constraint(
            op.f("ck_returns_resubmission_has_reason"), "NOT needs_resubmission OR resubmission_reason <> ''"
        )
    # The app always writes both; the defaults were only for the rows already there.
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.alter_column("needs_resubmission", server_default=None)
        batch_op.alter_column("resubmission_reason", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_returns_resubmission_has_reason"), type_="check")
        batch_op.drop_column("resubmission_reason")
        batch_op.drop_column("needs_resubmission")
