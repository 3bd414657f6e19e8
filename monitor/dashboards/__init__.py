"""Superset dashboards embedded in the app, limited to the signed-in user's rows."""
