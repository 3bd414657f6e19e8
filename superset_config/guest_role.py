"""What an embedded dashboard's guest may do in Superset: written out in full.

Plain data with no Superset import, so `accounts.py` (which brings the guest
role to exactly these permissions), `security_manager.py` (which refuses a
guest anything else, whatever the role holds) and the tests all read the
same list.

Found by trying: every embedded dashboard rendered in a browser and every
chart's data fetched with a guest token, with nothing more granted. Nothing
here exports, writes, lists users, touches caches or runs SQL.
"""

from __future__ import annotations

# (permission, view) pairs of the guest role, and nothing else.
GUEST_PERMISSIONS: frozenset[tuple[str, str]] = frozenset(
    {
        # The dashboard, its layout, charts and datasets (GET /api/v1/dashboard/<id>,
        # /charts, /datasets); chart data (POST /api/v1/chart/data).
        ("can_read", "Dashboard"),
        ("can_read", "Chart"),
        # The front end asks which roles the signed-in user has (GET /api/v1/me/roles/)
        # before it draws anything; for a guest that is this role.
        ("can_read", "CurrentUserRestApi"),
    }
)

# The Flask endpoints a guest token may reach: the embedded page's own
# calls. A permission above also covers endpoints a guest has no business
# with (`can_read` on Dashboard covers `related/owners`, which lists users),
# so the security manager checks the endpoint too.
GUEST_ENDPOINTS: frozenset[str] = frozenset(
    {
        "DashboardRestApi.get",
        "DashboardRestApi.get_charts",
        "DashboardRestApi.get_datasets",
        "ChartDataRestApi.data",
        "CurrentUserRestApi.get_my_roles",
    }
)
