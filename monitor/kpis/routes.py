"""Importing this module registers every framework and returns page on the blueprint."""

from monitor.kpis import (  # noqa: F401 - routes register on import
    calendar_views,
    framework_views,
    library_views,
    performance_views,
    return_views,
)
from monitor.kpis.blueprint import blueprint

__all__ = ["blueprint"]
