"""The worker tests use the framework fixtures of the return tests."""

from tests.kpis.conftest import frameworks, library  # noqa: F401 - fixtures
