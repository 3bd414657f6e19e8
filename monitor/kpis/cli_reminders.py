"""`flask returns remind` (filled in by the reminders work)."""
