"""Performance framework and quarterly KPI returns (not built yet: issue 3)."""
