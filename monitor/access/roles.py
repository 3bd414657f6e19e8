"""The four roles a person can hold. Pure, so every rule about who may do
what can name them without importing the database models."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COMMISSIONER = "commissioner"
    PROVIDER = "provider"
    BOARD = "board"
