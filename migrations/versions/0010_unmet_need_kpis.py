"""unmet need and safe accommodation KPIs in an installed library

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The KPIs and rules this revision added to the standard library, as it
# declared them, for installations whose library is already loaded (a new one
# gets them from `load_library`). A KPI whose code is taken is left alone.
NOT_TAKEN = (
    "No space",
    "Needs beyond the service",
    "Not eligible",
    "Declined",
    "No recourse to public funds",
    "Other",
)
SUPPORTED = "Individuals counted in 'Individuals supported in safe accommodation'"
KPIS = (
    # code, name, definition, unit, direction, category, rollup, breakdowns
    (
        "REF-NOT-TAKEN",
        "Referrals not taken",
        "Referrals received in the quarter that the service could not take, by the main reason. "
        "For safe accommodation a referral is a household.",
        "count",
        "lower is better",
        "output",
        "sum",
        NOT_TAKEN,
    ),
    (
        "WAITING-END",
        "People waiting at the end of the quarter",
        "People referred and accepted who were still waiting for support on the last day of the quarter.",
        "count",
        "lower is better",
        "output",
        "latest",
        (),
    ),
    (
        "DAYS-TO-CONTACT",
        "Median days from referral to first contact",
        "The median number of calendar days from referral to the service's first contact, for referrals "
        "first contacted in the quarter. A year's figure is the mean of its quarters' medians.",
        "days",
        "lower is better",
        "quality",
        "mean",
        (),
    ),
    (
        "CHILD-SUPPORT-WANTED",
        "Children whose support was asked for",
        "Children of the service's clients for whom the client or the child wanted support in the quarter.",
        "count",
        "higher is better",
        "output",
        "sum",
        (),
    ),
    (
        "CHILD-SUPPORT-RECEIVED",
        "Children who received support",
        "Children counted in 'Children whose support was asked for' who received support in the quarter, "
        "from the service or one it referred them to.",
        "count",
        "higher is better",
        "output",
        "sum",
        (),
    ),
    (
        "SA-SUPPORTED",
        "Individuals supported in safe accommodation",
        "Individuals who started support in relevant safe accommodation in the quarter (in Q1, also "
        "those already supported on 1 April), adults by gender identity and children: the four "
        "quarters add up to everyone supported in the year, each counted once.",
        "count",
        "higher is better",
        "output",
        "sum",
        ("Women", "Men", "Trans adults", "Children"),
    ),
    (
        "SA-BLACK-MINORITISED",
        "Individuals supported who are black or minoritised",
        f"{SUPPORTED} who are black or minoritised.",
        "count",
        "higher is better",
        "output",
        "sum",
        (),
    ),
    (
        "SA-MENTAL-HEALTH",
        "Individuals supported with mental health needs",
        f"{SUPPORTED} with mental health needs.",
        "count",
        "higher is better",
        "output",
        "sum",
        (),
    ),
    (
        "SA-DISABLED",
        "Individuals supported who are disabled",
        f"{SUPPORTED} who are disabled.",
        "count",
        "higher is better",
        "output",
        "sum",
        (),
    ),
    (
        "SA-LGBT",
        "Individuals supported who are LGBT+",
        f"{SUPPORTED} who are lesbian, gay, bisexual, trans or of another minority sexual orientation or "
        "gender identity.",
        "count",
        "higher is better",
        "output",
        "sum",
        (),
    ),
    (
        "SA-ENDED",
        "Households whose support ended",
        "Households whose support in safe accommodation ended in the quarter, by the main reason.",
        "count",
        "higher is better",
        "output",
        "sum",
        (
            "Support completed",
            "Moved to other accommodation",
            "Evicted or asked to leave",
            "Returned to the perpetrator",
            "Left without notice",
            "Other",
        ),
    ),
    (
        "SA-BEDSPACES",
        "Commissioned bedspaces or units",
        "Bedspaces or units of safe accommodation the contract provides on the last day of the quarter, "
        "by type.",
        "count",
        "higher is better",
        "output",
        "latest",
        (
            "Refuge",
            "Sanctuary scheme",
            "Dispersed accommodation",
            "Second stage accommodation",
            "Other safe accommodation",
        ),
    ),
)
PART_OF = (
    ("REF-NOT-TAKEN", "REF-RECEIVED"),
    ("CHILD-SUPPORT-RECEIVED", "CHILD-SUPPORT-WANTED"),
    ("SA-BLACK-MINORITISED", "SA-SUPPORTED"),
    ("SA-MENTAL-HEALTH", "SA-SUPPORTED"),
    ("SA-DISABLED", "SA-SUPPORTED"),
    ("SA-LGBT", "SA-SUPPORTED"),
)


def upgrade() -> None:
    connection = op.get_bind()
    codes = set(connection.scalars(sa.text("SELECT code FROM kpis")))
    if "REF-RECEIVED" not in codes:
        return  # no library loaded yet: load_library will add them all
    added = set()
    for code, name, definition, unit, direction, category, rollup, breakdowns in KPIS:
        if code in codes:
            continue
        connection.execute(
            sa.text(
                "INSERT INTO kpis (code, name, definition, unit, direction, category, rollup, active) "
                "VALUES (:code, :name, :definition, :unit, :direction, :category, :rollup, :active)"
            ),
            dict(
                code=code,
                name=name,
                definition=definition,
                unit=unit,
                direction=direction,
                category=category,
                rollup=rollup,
                active=True,
            ),
        )
        kpi_id = connection.scalar(sa.text("SELECT id FROM kpis WHERE code = :code"), {"code": code})
        for position, label in enumerate(breakdowns, 1):
            connection.execute(
                sa.text(
                    "INSERT INTO kpi_breakdowns (kpi_id, position, label) VALUES (:kpi, :position, :label)"
                ),
                {"kpi": kpi_id, "position": position, "label": label},
            )
        if breakdowns:
            # The parts add up to the total, as every KPI with breakdowns must.
            connection.execute(
                sa.text(
                    "INSERT INTO kpi_consistency_rules (kind, kpi_id, related_kpi_id, severity) "
                    "VALUES ('breakdown', :kpi, :kpi, 'error')"
                ),
                {"kpi": kpi_id},
            )
        added.add(code)
    for code, whole in PART_OF:
        if code in added or whole in added:
            connection.execute(
                sa.text(
                    "INSERT INTO kpi_consistency_rules (kind, kpi_id, related_kpi_id, severity) "
                    "SELECT 'part of', k.id, w.id, 'error' FROM kpis k, kpis w "
                    "WHERE k.code = :code AND w.code = :whole"
                ),
                {"code": code, "whole": whole},
            )


def downgrade() -> None:
    # The KPIs may already have frameworks and figures: removing them would
    # lose returns, so a downgrade leaves the library as it is.
    pass
