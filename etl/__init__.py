"""Warehouse ETL (not built yet: issue 4)."""
