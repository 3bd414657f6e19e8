"""The open data settings come from the environment and a bad prefix stops
start-up with a line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, load_config


def test_open_data_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OCID_PREFIX", "GIVING_PREFIX", "OPEN_DATA_PUBLISHER", "OPEN_DATA_LICENSE"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(tmp_path, "development")
    assert (config.OCID_PREFIX, config.GIVING_PREFIX) == ("ocds-demo00", "360G-demo")
    assert config.OPEN_DATA_LICENSE.startswith(
        "https://www.nationalarchives.gov.uk/doc/open-government-licence/"
    )
    monkeypatch.setenv("OCID_PREFIX", "ocds-b5fd17")
    monkeypatch.setenv("GIVING_PREFIX", "360G-lbbd")
    monkeypatch.setenv("OPEN_DATA_PUBLISHER", "London Borough of Barking and Dagenham")
    config = load_config(tmp_path, "development")
    assert (config.OCID_PREFIX, config.GIVING_PREFIX) == ("ocds-b5fd17", "360G-lbbd")
    assert config.OPEN_DATA_PUBLISHER == "London Borough of Barking and Dagenham"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OCID_PREFIX", "demo"),
        ("OCID_PREFIX", "ocds-ABC123"),
        ("GIVING_PREFIX", "lbbd"),
        ("GIVING_PREFIX", "360G-"),
    ],
)
def test_a_bad_prefix_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{name} must be"):
        load_config(tmp_path, "development")
