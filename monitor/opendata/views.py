"""Web downloads of a contract's open data, from its page.

Anyone who can read a contract may download it: it is what would be
published. A contract that cannot be published yet gets its page back with
every problem listed and a link to where each is fixed.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import request, send_file
from flask_login import login_required

from monitor.access.signed_in import signed_in_user
from monitor.clock import today
from monitor.contracts.access import contract_for
from monitor.contracts.blueprint import blueprint
from monitor.contracts.views import contract_page
from monitor.db import db
from monitor.opendata.service import (
    JSON_MIMETYPE,
    Export,
    ExportRefused,
    contract_grant,
    contract_ocds,
    publishing,
)


def _base_url() -> str:
    # SERVICE_URL when set, else the address this request came in on.
    return str(publishing().base_url or request.host_url.rstrip("/"))


def _download(export: Export) -> Any:
    return send_file(
        BytesIO(export.text.encode("utf-8")),
        mimetype=JSON_MIMETYPE,
        as_attachment=True,
        download_name=export.filename,
    )


@blueprint.route("/contracts/<int:contract_id>/ocds.json")
@login_required
def contract_ocds_download(contract_id: int) -> Any:
    session = db.session()
    item = contract_for(session, signed_in_user(), contract_id)
    try:
        return _download(contract_ocds(session, item, publishing(_base_url()), today()))
    except ExportRefused as refused:
        return contract_page(item, refused.problems)


@blueprint.route("/contracts/<int:contract_id>/360giving.json")
@login_required
def contract_360giving_download(contract_id: int) -> Any:
    session = db.session()
    item = contract_for(session, signed_in_user(), contract_id)
    try:
        return _download(contract_grant(session, item, publishing(_base_url()), today()))
    except ExportRefused as refused:
        return contract_page(item, refused.problems)
