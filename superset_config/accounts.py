"""Superset's accounts: the admin the app signs in as, and the guest role.

Run by `superset.sh setup` with Superset's own Python, after `superset init`
has synced the built-in roles (one process instead of three CLI calls, each
of which builds the whole Superset app).

- The admin account (SUPERSET_ADMIN_USERNAME) is created, or its password
  reset, so the password in the environment is always the one that works.
- The guest role (GUEST_ROLE_NAME) holds exactly the allow-list in
  `guest_role.py`: what an embedded dashboard needs to draw its charts, and
  no export, write, user listing, cache control, datasource access or SQL.
  Nothing is copied from a built-in role (Gamma carries export and write
  rights). Running again brings the role back to the list, removing
  anything added since.
"""

from __future__ import annotations

import os

from guest_role import GUEST_PERMISSIONS
from superset.app import create_app


def main() -> None:
    username = os.environ.get("SUPERSET_ADMIN_USERNAME", "admin")
    password = os.environ["SUPERSET_ADMIN_PASSWORD"]
    app = create_app()
    with app.app_context():
        from superset import security_manager
        from superset.extensions import db

        admin_role = security_manager.find_role("Admin")
        user = security_manager.find_user(username=username)
        if user is None:
            security_manager.add_user(
                username, "Superset", "Admin", f"{username}@superset.invalid", admin_role, password
            )
            print(f"admin account {username!r} created")
        else:
            security_manager.reset_password(user.id, password)
            if admin_role not in user.roles:
                user.roles.append(admin_role)
            print(f"admin account {username!r} kept; password set from SUPERSET_ADMIN_PASSWORD")

        role_name = app.config["GUEST_ROLE_NAME"]
        role = security_manager.find_role(role_name) or security_manager.add_role(role_name)
        granted = []
        for permission, view in sorted(GUEST_PERMISSIONS):
            found = security_manager.find_permission_view_menu(permission, view)
            if found is None:
                raise SystemExit(
                    f"Superset has no permission {permission} on {view}; run `superset init` first"
                )
            granted.append(found)
        removed = sorted(
            f"{p.permission.name} on {p.view_menu.name}" for p in role.permissions if p not in granted
        )
        role.permissions = granted
        db.session.commit()
        print(f"guest role {role_name!r}: {len(granted)} allow-listed permissions")
        if removed:
            print(f"guest role {role_name!r}: removed {', '.join(removed)}")


if __name__ == "__main__":
    main()
