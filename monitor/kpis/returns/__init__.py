"""Quarterly KPI returns: the reporting calendar, the pre-filled Excel
template (`template/`), the staged checks of an upload (`ingest/`), the
submit and review commands, and reminders."""
