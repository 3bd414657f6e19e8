"""The JSON API under /api/v1/ (bearer tokens)."""

from monitor.api.blueprint import blueprint

__all__ = ["blueprint"]
