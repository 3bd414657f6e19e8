"""(filled in by the calendar_views work)."""
