"""The quarterly return workbook: its layout per version and the writer.

build_template(session, contract, quarter, generated_at=...) -> bytes
"""

from monitor.kpis.returns.template.layout import CURRENT_LAYOUT, LAYOUTS, TEMPLATE_VERSION, TemplateLayout
from monitor.kpis.returns.template.writer import TemplateError, build_template

__all__ = [
    "CURRENT_LAYOUT",
    "LAYOUTS",
    "TEMPLATE_VERSION",
    "TemplateError",
    "TemplateLayout",
    "build_template",
]
