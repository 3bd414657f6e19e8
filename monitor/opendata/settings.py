"""Who publishes the open data, under which prefixes, licence and address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Publishing:
    ocid_prefix: str
    giving_prefix: str
    publisher: str
    license_url: str
    # The public address of this service (no trailing slash), on which package
    # addresses are built; OCDS requires them to be absolute.
    base_url: str


def publishing_from(config: Mapping[str, Any], base_url: str) -> Publishing:
    return Publishing(
        ocid_prefix=str(config["OCID_PREFIX"]),
        giving_prefix=str(config["GIVING_PREFIX"]),
        publisher=str(config["OPEN_DATA_PUBLISHER"]),
        license_url=str(config["OPEN_DATA_LICENSE"]),
        base_url=base_url.rstrip("/"),
    )
