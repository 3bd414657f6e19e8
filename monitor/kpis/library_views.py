"""(filled in by the library_views work)."""
