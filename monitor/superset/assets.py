"""Load the dashboard declarations from `superset_config/assets/`.

They live beside Superset's configuration, not in this package, so the
dashboards can be read and changed in one place; they are plain Python
written with `monitor.superset.charts`, loaded here by path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from monitor.superset.spec import Dashboard

ASSETS_DIR = Path(__file__).resolve().parents[2] / "superset_config" / "assets"
_MODULE_NAME = "superset_config_assets"


def load_dashboards(path: Path = ASSETS_DIR) -> tuple[Dashboard, ...]:
    """Every dashboard `superset_config/assets/__init__.py` lists in DASHBOARDS."""
    init = path / "__init__.py"
    if not init.is_file():
        raise FileNotFoundError(f"no dashboard declarations at {init}")
    module = sys.modules.get(_MODULE_NAME)
    if module is None or Path(getattr(module, "__file__", "")) != init:
        spec = importlib.util.spec_from_file_location(
            _MODULE_NAME, init, submodule_search_locations=[str(path)]
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {init}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[_MODULE_NAME] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[_MODULE_NAME]
            raise
    dashboards = tuple(getattr(module, "DASHBOARDS", ()))
    if not dashboards or not all(isinstance(d, Dashboard) for d in dashboards):
        raise TypeError(f"{init} must define DASHBOARDS, a sequence of monitor.superset.spec.Dashboard")
    _check_unique(dashboards)
    return dashboards


def _check_unique(dashboards: tuple[Dashboard, ...]) -> None:
    """Two declarations sharing a key would share a uuid and overwrite each other."""
    slugs = [d.slug for d in dashboards]
    if len(slugs) != len(set(slugs)):
        raise ValueError(f"dashboard slugs repeat: {sorted(slugs)}")
    seen: dict[str, str] = {}
    for dashboard in dashboards:
        for chart in dashboard.charts:
            if chart.key in seen and seen[chart.key] != dashboard.slug:
                raise ValueError(f"chart key {chart.key!r} is on {seen[chart.key]} and {dashboard.slug}")
            seen[chart.key] = dashboard.slug
