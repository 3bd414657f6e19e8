"""(filled in by the return_views work)."""
