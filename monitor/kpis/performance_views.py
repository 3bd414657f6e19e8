"""(filled in by the performance_views work)."""
