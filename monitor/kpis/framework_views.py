"""(filled in by the framework_views work)."""
