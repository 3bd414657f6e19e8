"""The JSON API under /api/v1/ (bearer tokens). The OpenAPI document is at
/api/v1/openapi.json; routes live in one module per resource."""

from monitor.api import auth, errors
from monitor.api.blueprint import blueprint

errors.install(blueprint)
auth.install(blueprint)

# Routes register on import.
from monitor.api import (  # noqa: E402
    amendments,
    contracts,
    framework,
    funding,
    funding_lines,
    openapi,
    opendata,
    returns,
)

__all__ = [
    "amendments",
    "blueprint",
    "contracts",
    "framework",
    "funding",
    "funding_lines",
    "openapi",
    "opendata",
    "returns",
]
