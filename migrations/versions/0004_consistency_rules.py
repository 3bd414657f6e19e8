"""KPI library consistency rules

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The standard relations as this revision declared them, for installations
# whose library is already loaded (a new one gets them from `load_library`).
STANDARD_RULES = (
    ("part of", "REF-ACCEPTED", "REF-RECEIVED"),
    ("part of", "PERP-COMPLETIONS", "PERP-STARTS"),
    ("denominator", "CONTACT-2WD", "REF-ACCEPTED"),
    ("denominator", "PLANNED-ENDING", "CASES-CLOSED"),
    ("denominator", "SAFETY-PLAN", "CASES-CLOSED"),
)


def upgrade() -> None:
    op.create_table(
        "kpi_consistency_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("kpi_id", sa.Integer(), nullable=False),
        sa.Column("related_kpi_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "kind IN ('part of', 'denominator', 'breakdown')",
            name=op.f("ck_kpi_consistency_rules_kind_allowed"),
        ),
        sa.CheckConstraint(
            "severity IN ('error', 'warning')", name=op.f("ck_kpi_consistency_rules_severity_allowed")
        ),
        sa.CheckConstraint(
            "(kind = 'breakdown') = (kpi_id = related_kpi_id)", name=op.f("ck_kpi_consistency_rules_related")
        ),
        sa.ForeignKeyConstraint(
            ["kpi_id"], ["kpis.id"], name=op.f("fk_kpi_consistency_rules_kpi_id_kpis"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["related_kpi_id"],
            ["kpis.id"],
            name=op.f("fk_kpi_consistency_rules_related_kpi_id_kpis"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_consistency_rules")),
        sa.UniqueConstraint(
            "kind",
            "kpi_id",
            "related_kpi_id",
            name=op.f("uq_kpi_consistency_rules_kind_kpi_id_related_kpi_id"),
        ),
    )
    with op.batch_alter_table("kpi_consistency_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpi_consistency_rules_kpi_id"), ["kpi_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_kpi_consistency_rules_related_kpi_id"), ["related_kpi_id"], unique=False
        )

    # Until now the return checks held these rules in code, as errors: keep them.
    for kind, code, related in STANDARD_RULES:
        op.execute(
            sa.text(
                "INSERT INTO kpi_consistency_rules (kind, kpi_id, related_kpi_id, severity) "
                "SELECT :kind, k.id, r.id, 'error' FROM kpis k, kpis r WHERE k.code = :code AND r.code = :related"
            ).bindparams(kind=kind, code=code, related=related)
        )
    op.execute(
        "INSERT INTO kpi_consistency_rules (kind, kpi_id, related_kpi_id, severity) "
        "SELECT 'breakdown', k.id, k.id, 'error' FROM kpis k WHERE k.numerator_label IS NULL "
        "AND EXISTS (SELECT 1 FROM kpi_breakdowns b WHERE b.kpi_id = k.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("kpi_consistency_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_consistency_rules_related_kpi_id"))
        batch_op.drop_index(batch_op.f("ix_kpi_consistency_rules_kpi_id"))
    op.drop_table("kpi_consistency_rules")
