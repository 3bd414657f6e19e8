"""Superset's security manager for the commissioning monitor (CUSTOM_SECURITY_MANAGER).

Superset's own checks are not enough for embedded dashboards' guests (see the
README's "Layers that keep Superset safe"), so for a guest this manager
grants only the (permission, view) pairs and endpoints in `guest_role.py`,
whatever the role in the metadata database holds.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from guest_role import GUEST_ENDPOINTS, GUEST_PERMISSIONS
from superset.security import SupersetSecurityManager


class MonitorSecurityManager(SupersetSecurityManager):
    def _has_view_access(self, user: Any, permission_name: str, view_name: str) -> bool:
        if self.is_guest_user(user):
            endpoint = request.endpoint if has_request_context() else None
            if (permission_name, view_name) not in GUEST_PERMISSIONS or endpoint not in GUEST_ENDPOINTS:
                return False
        return bool(super()._has_view_access(user, permission_name, view_name))
