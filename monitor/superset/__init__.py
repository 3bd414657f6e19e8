"""Superset: the REST client, the dashboards-as-code bundle and provisioning.

Superset itself runs in its own virtual environment (.superset-venv); this
package only talks to it over HTTP, so it needs nothing from Superset.
"""
