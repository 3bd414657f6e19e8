"""Reading the limits the checks use from the app config (or any settings object)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.config import BaseConfig


def setting(settings: Any, name: str) -> Any:
    """`settings` may be the Flask config (a mapping) or a config object; missing means the default."""
    default = getattr(BaseConfig, name)
    if isinstance(settings, Mapping):
        return settings.get(name, default)
    return getattr(settings, name, default)


@dataclass(frozen=True)
class FileLimits:
    max_upload_bytes: int = BaseConfig.MAX_UPLOAD_BYTES
    max_unpacked_bytes: int = BaseConfig.MAX_UNPACKED_BYTES

    @classmethod
    def from_settings(cls, settings: Any) -> FileLimits:
        return cls(int(setting(settings, "MAX_UPLOAD_BYTES")), int(setting(settings, "MAX_UNPACKED_BYTES")))
