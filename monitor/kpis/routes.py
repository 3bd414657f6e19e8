"""Importing this module registers every framework and returns page on the blueprint."""

from monitor.kpis.blueprint import blueprint
from monitor.kpis.framework import views as framework_views  # noqa: F401 - routes register on import
from monitor.kpis.library import views as library_views  # noqa: F401
from monitor.kpis.performance import views as performance_views  # noqa: F401
from monitor.kpis.returns import calendar_views, reply_views, task_views, views  # noqa: F401

__all__ = ["blueprint"]
