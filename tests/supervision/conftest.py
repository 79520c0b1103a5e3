"""The dashboard's tests use the shared personas (tests/conftest.py); its health payload is cached
across processes, so no test may see another's."""

import pytest


@pytest.fixture(autouse=True)
def _no_cached_health() -> None:
    """The health payload is cached across processes (Redis in CI): never carry one test's into the next."""
    from supervision.selectors import forget_health

    forget_health()
