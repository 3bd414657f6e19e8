"""Checking an uploaded return workbook in stages: file, identity, cells,
cross-checks, period checks. See `pipeline.check_workbook`."""
