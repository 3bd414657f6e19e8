"""The guest role is an allow-list, and a guest token reaches nothing else.

The permissions are read from Superset's own metadata database, not from the
code that set them; then the attacks a Gamma-like role allowed are tried
with a real guest token: exporting a dashboard with every dataset's rows,
writing a chart, listing users.
"""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from monitor.superset.client import SupersetError
from tests.superset.conftest import ROOT, ProvisionedSuperset, _fail, _script

GUEST_ROLE = "Embedded viewer"
# Names no guest permission may carry, whatever the allow-list says.
FORBIDDEN = ("export", "write", "csv", "invalidate", "warm_up", "delete", "edit", "add", "sql", "tag")
FORBIDDEN_VIEWS = {
    "User",
    "UserDBModelView",
    "SecurityRestApi",
    "Database",
    "SQLLab",
    "CacheRestApi",
    "Theme",
}


def allow_list() -> frozenset[tuple[str, str]]:
    """GUEST_PERMISSIONS from superset_config/guest_role.py (plain data, loaded by path)."""
    spec = importlib.util.spec_from_file_location("guest_role", ROOT / "superset_config" / "guest_role.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    permissions: frozenset[tuple[str, str]] = module.GUEST_PERMISSIONS
    return permissions


def role_permissions(metadata: Path, role: str = GUEST_ROLE) -> set[tuple[str, str]]:
    with sqlite3.connect(metadata) as connection:
        rows = connection.execute(
            """
            SELECT p.name, v.name
            FROM ab_role r
            JOIN ab_permission_view_role pvr ON pvr.role_id = r.id
            JOIN ab_permission_view pv ON pv.id = pvr.permission_view_id
            JOIN ab_permission p ON p.id = pv.permission_id
            JOIN ab_view_menu v ON v.id = pv.view_menu_id
            WHERE r.name = ?
            """,
            (role,),
        ).fetchall()
    return {(permission, view) for permission, view in rows}


def test_the_allow_list_itself_grants_nothing_dangerous() -> None:
    for permission, view in allow_list():
        assert not any(word in permission.lower() for word in FORBIDDEN), (permission, view)
        assert view not in FORBIDDEN_VIEWS, (permission, view)


def test_the_guest_role_holds_exactly_the_allow_list(provisioned_superset: ProvisionedSuperset) -> None:
    granted = role_permissions(provisioned_superset.home / "superset.db")
    assert granted == allow_list()
    for permission, view in granted:
        assert not any(word in permission.lower() for word in FORBIDDEN), (permission, view)
        assert view not in FORBIDDEN_VIEWS, (permission, view)


def test_setup_again_removes_what_was_added(superset_metadata_template: Path, tmp_path: Path) -> None:
    shutil.copy(superset_metadata_template, tmp_path / "superset.db")
    with sqlite3.connect(tmp_path / "superset.db") as connection:
        role_id = connection.execute("SELECT id FROM ab_role WHERE name = ?", (GUEST_ROLE,)).fetchone()[0]
        gamma = connection.execute(
            """
            SELECT pvr.permission_view_id FROM ab_permission_view_role pvr
            JOIN ab_role r ON r.id = pvr.role_id WHERE r.name = 'Gamma'
            """
        ).fetchall()
        connection.executemany(
            "INSERT OR IGNORE INTO ab_permission_view_role (permission_view_id, role_id) VALUES (?, ?)",
            [(pv, role_id) for (pv,) in gamma],
        )
    assert ("can_export", "Dashboard") in role_permissions(tmp_path / "superset.db")
    result = _script("setup", tmp_path)
    if result.returncode != 0:
        _fail("superset.sh setup again", result, tmp_path)
    assert role_permissions(tmp_path / "superset.db") == allow_list()
    assert "can_export on Dashboard" in result.stdout.split("removed", 1)[1]


def as_guest(superset: ProvisionedSuperset, method: str, path: str, token: str, body: Any = None) -> int:
    """The status Superset answers a guest with (200 when it lets the call through)."""
    try:
        superset.client._call(
            method, path, json_body=body, headers={"X-GuestToken": token}, authenticated=False
        )
    except SupersetError as error:
        assert error.status is not None, error
        return error.status
    return 200


def test_a_guest_cannot_export_write_or_list_users(provisioned_superset: ProvisionedSuperset) -> None:
    superset = provisioned_superset
    dashboard = superset.dashboards["funding-value-for-money"]
    chart = dashboard.charts[0]
    token = superset.guest_token("partnership:1", [dashboard.slug])
    # What the embedded dashboard itself needs still answers.
    assert as_guest(superset, "GET", f"/api/v1/dashboard/{dashboard.id}", token) == 200
    assert as_guest(superset, "GET", f"/api/v1/dashboard/{dashboard.id}/charts", token) == 200
    attacks = [
        # Every dataset's whole table, with no row-level security.
        ("GET", f"/api/v1/dashboard/{dashboard.id}/export_as_example/", None),
        ("GET", f"/api/v1/dashboard/export/?q=!({dashboard.id})", None),
        ("GET", f"/api/v1/chart/export/?q=!({chart.id})", None),
        # Writes.
        ("POST", "/api/v1/chart/", {"slice_name": "guest", "datasource_id": 1, "datasource_type": "table"}),
        ("PUT", f"/api/v1/chart/{chart.id}", {"slice_name": "renamed by a guest"}),
        ("PUT", f"/api/v1/dashboard/{dashboard.id}", {"dashboard_title": "renamed by a guest"}),
        ("POST", "/api/v1/tag/", {"name": "guest", "objects_to_tag": []}),
        ("POST", "/api/v1/cachekey/invalidate", {"datasource_uids": ["1__table"]}),
        ("PUT", "/api/v1/chart/warm_up_cache", {"chart_id": chart.id}),
        # Users and owners.
        ("GET", "/api/v1/dashboard/related/owners", None),
        ("GET", "/api/v1/chart/related/owners", None),
        ("GET", "/api/v1/security/users/", None),
        # Lists and metadata beyond the dashboard.
        ("GET", "/api/v1/chart/", None),
        ("GET", "/api/v1/dataset/", None),
        ("GET", "/api/v1/database/", None),
        ("GET", f"/api/v1/chart/{chart.id}", None),
        ("GET", f"/api/v1/chart/{chart.id}/data/", None),
    ]
    let_through = [
        (method, path)
        for method, path, body in attacks
        if as_guest(superset, method, path, token, body) < 400
    ]
    assert let_through == []


def test_a_guest_cannot_export_the_whole_dashboard(provisioned_superset: ProvisionedSuperset) -> None:
    superset = provisioned_superset
    for dashboard in superset.dashboards.values():
        token = superset.guest_token("organisation:1", [dashboard.slug])
        status = as_guest(superset, "GET", f"/api/v1/dashboard/{dashboard.id}/export_as_example/", token)
        assert status in (401, 403, 404), (dashboard.slug, status)
