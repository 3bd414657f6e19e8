"""Excel exports of the register and the funding summary (xlsxwriter)."""

from __future__ import annotations

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
