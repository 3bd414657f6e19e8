"""Checking an uploaded return workbook in stages: file, identity, cells,
cross-checks, period checks. See `pipeline.check_workbook`.

    check_workbook(session, content, filename, contract=, quarter=, user=, settings=) -> CheckedReturn
    annotate_workbook(content, messages) -> bytes | None
    peek_identity(content, filename, settings=) -> (Identity | None, messages)
"""

from monitor.kpis.returns.ingest.annotate import annotate_workbook
from monitor.kpis.returns.ingest.pipeline import check_workbook, peek_identity

__all__ = ["annotate_workbook", "check_workbook", "peek_identity"]
