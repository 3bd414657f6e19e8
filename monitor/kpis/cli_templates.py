"""`flask returns template` and `flask returns check` (filled in by the template and ingest work)."""
