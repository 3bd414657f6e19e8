"""Superset's accounts: the admin the app signs in as, and the guest role.

Run by `superset.sh setup` with Superset's own Python, after `superset init`
has synced the built-in roles (one process instead of three CLI calls, each
of which builds the whole Superset app).

- The admin account (SUPERSET_ADMIN_USERNAME) is created, or its password
  reset, so the password in the environment is always the one that works.
- The guest role (GUEST_ROLE_NAME) copies Gamma's permissions: read
  dashboards, charts and datasets, but no datasource access and no SQL Lab.
  A guest reads a dataset only through a chart on a dashboard named in its
  token, and every query carries the token's row-level security rule.
  Running again brings the role back in line with Gamma.
"""

from __future__ import annotations

import os

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
        gamma = security_manager.find_role("Gamma")
        if gamma is None:
            raise SystemExit("Gamma role is missing; run `superset init` first")
        role = security_manager.find_role(role_name) or security_manager.add_role(role_name)
        role.permissions = list(gamma.permissions)
        db.session.commit()
        print(f"guest role {role_name!r}: {len(role.permissions)} read permissions copied from Gamma")


if __name__ == "__main__":
    main()
