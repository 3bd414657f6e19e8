"""The words benchmarking data is kept in: the regions an area can belong to.

Pure: no Flask, no database, so the models' check constraint, the service's
messages and any later page all read the one list.
"""

from __future__ import annotations

from enum import StrEnum

# England's nine regions (the ONS's former Government Office Regions, as
# Fingertips groups areas) and Wales, in the ONS's order.
REGIONS: tuple[str, ...] = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
    "Wales",
)


class GroupKind(StrEnum):
    """Why an area is compared with a group: every area, its region, or an admin's similar areas."""

    ALL_AREAS = "all areas"
    REGION = "region"
    SIMILAR_AREAS = "similar areas"


ALL_AREAS_NAME = "All areas"


def region_group_name(region: str) -> str:
    return f"{region} areas"
