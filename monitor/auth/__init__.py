"""Accounts: organisations, partnerships (boards), users, sign-in, API tokens and the account commands. Who may do what is decided in `monitor.access`."""
