"""One declarative description per template version, read by both the writer
and the importer.

Every table sits between two tags in a hidden column A: the START row (itself
hidden) also names each column by key, so the importer finds tables and
columns by what they are, never by cell coordinates. A new layout gets a new
version; the importer refuses versions it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass

TAG_COLUMN = 0  # column A, hidden on every sheet


@dataclass(frozen=True)
class Column:
    key: str  # what the importer looks for in the START row
    header: str  # what the provider sees
    width: float
    hidden: bool = False


@dataclass(frozen=True)
class Table:
    sheet: str
    tag: str
    columns: tuple[Column, ...]

    @property
    def start_tag(self) -> str:
        return f"START:{self.tag}"

    @property
    def end_tag(self) -> str:
        return f"END:{self.tag}"

    def position(self, key: str) -> int:
        """The 0-based sheet column the writer puts a column in (after the tag column)."""
        for number, column in enumerate(self.columns, start=1):
            if column.key == key:
                return number
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)


class Line:
    """What an input row on the KPIs sheet holds (the hidden `line` column)."""

    VALUE = "value"  # a KPI reported as one figure
    BREAKDOWN = "breakdown"  # one part of a KPI reported by category
    TOTAL = "total"  # the total of a KPI reported by category
    NUMERATOR = "numerator"
    DENOMINATOR = "denominator"
    PERCENTAGE = "percentage"  # a formula for the provider's eyes only; never read
    DERIVED = "derived"  # worked out from the Outcomes sheet; no input

    INPUTS = frozenset({VALUE, BREAKDOWN, TOTAL, NUMERATOR, DENOMINATOR})


class MetadataKey:
    TEMPLATE_VERSION = "template_version"
    CONTRACT_ID = "contract_id"
    CONTRACT_REFERENCE = "contract_reference"
    PERIOD = "period"
    GENERATED_AT = "generated_at"
    SIGNATURE = "signature"  # an HMAC of the others (see signature.py)

    ALL = (TEMPLATE_VERSION, CONTRACT_ID, CONTRACT_REFERENCE, PERIOD, GENERATED_AT)
    SIGNED = ALL


# In the hidden tag column of a sheet's title row, so the importer can find the title
# (which names the quarter) and check it against the metadata.
TITLE_TAG = "TITLE"


@dataclass(frozen=True)
class TemplateLayout:
    version: str
    cover_sheet: str
    kpis: Table
    outcomes: Table
    commentary: Table
    metadata: Table
    outcome_rows: int
    measures: tuple[str, ...]
    informants: tuple[str, ...]

    @property
    def sheet_order(self) -> tuple[str, ...]:
        return (
            self.cover_sheet,
            self.kpis.sheet,
            self.outcomes.sheet,
            self.commentary.sheet,
            self.metadata.sheet,
        )


LAYOUT_2026_1 = TemplateLayout(
    version="2026.1",
    cover_sheet="Cover",
    kpis=Table(
        sheet="KPIs",
        tag="KPIS",
        columns=(
            Column("code", "Code", 16),
            Column("label", "KPI", 42),
            Column("definition", "What to count", 60),
            Column("unit", "Unit", 12),
            Column("target", "Target", 16),
            Column("last_quarter", "Last quarter", 14),
            Column("value", "This quarter", 16),
            Column("kpi_code", "kpi_code", 1, hidden=True),
            Column("breakdown", "breakdown", 1, hidden=True),
            Column("line", "line", 1, hidden=True),
        ),
    ),
    outcomes=Table(
        sheet="Outcomes",
        tag="OUTCOMES",
        columns=(
            Column("measure", "Measure", 14),
            Column("informant", "Informant (SDQ only)", 22),
            Column("pre_score", "Score at start", 16),
            Column("post_score", "Score at closure", 16),
        ),
    ),
    commentary=Table(
        sheet="Commentary",
        tag="COMMENTARY",
        columns=(
            Column("code", "Code", 16),
            Column("label", "KPI", 42),
            Column("target", "Target", 16),
            Column("explanation", "Explanation", 90),
            Column("kpi_code", "kpi_code", 1, hidden=True),
        ),
    ),
    metadata=Table(
        sheet="Metadata",
        tag="METADATA",
        columns=(Column("key", "Key", 22), Column("value", "Value", 40)),
    ),
    outcome_rows=500,
    measures=("SDQ", "WEMWBS", "SWEMWBS"),
    informants=("parent", "teacher", "self"),
)

LAYOUTS: dict[str, TemplateLayout] = {layout.version: layout for layout in (LAYOUT_2026_1,)}
CURRENT_LAYOUT = LAYOUT_2026_1
TEMPLATE_VERSION = CURRENT_LAYOUT.version
