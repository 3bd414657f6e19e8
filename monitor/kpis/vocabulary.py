"""The words KPIs and returns are described in: units, directions, roll-ups,
target bases, return states and outcome measures. Pure, so the rating rules
and the ETL can name them without the database models."""

from __future__ import annotations

from enum import StrEnum


class Unit(StrEnum):
    COUNT = "count"
    PERCENTAGE = "percentage"
    CURRENCY = "currency"
    SCORE = "score"
    DAYS = "days"


class Direction(StrEnum):
    HIGHER = "higher is better"
    LOWER = "lower is better"


class KpiCategory(StrEnum):
    OUTPUT = "output"
    OUTCOME = "outcome"
    QUALITY = "quality"
    FINANCE = "finance"


class Rollup(StrEnum):
    SUM = "sum"
    MEAN = "mean"
    LATEST = "latest"


class TargetBasis(StrEnum):
    QUARTER = "quarter"
    YEAR = "year"


class ReturnState(StrEnum):
    NOT_STARTED = "not started"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    QUERIED = "queried"
    RESUBMITTED = "resubmitted"
    ACCEPTED = "accepted"


class EventKind(StrEnum):
    """What happened to a return, as its history records it."""

    DRAFT = "draft saved"
    SUBMITTED = "submitted"
    RESUBMITTED = "resubmitted"
    QUERIED = "queried"
    ACCEPTED = "accepted"
    REOPENED = "reopened"
    # The framework changed after submission: see monitor.kpis.returns.resubmission.
    NEEDS_RESUBMISSION = "needs resubmission"
    # The provider answered a query in words: see monitor.kpis.returns.replies.
    REPLIED = "replied to query"


class OutcomeMeasure(StrEnum):
    SDQ = "SDQ"
    WEMWBS = "WEMWBS"
    SWEMWBS = "SWEMWBS"


class Informant(StrEnum):
    """Who completed an SDQ; the band cut-offs differ by informant."""

    PARENT = "parent"
    TEACHER = "teacher"
    SELF = "self"
