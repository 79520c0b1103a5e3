"""Dashboard personas: Ana and Bo (jewelry), Mei (maternal & baby), supervisor Sam — the console's,
signed in through the same helpers — plus the console's browser rig."""

import pytest
from django.core.cache import cache

from tests.console.conftest import (  # noqa: F401  (fixtures shared with the console's tests)
    ana,
    bo,
    browser,
    console_server,
    expect,
    inquiry,
    mei,
    page,
    sam,
    screenshots,
    signed_in,
    storefront_token,
)


@pytest.fixture(autouse=True)
def _no_cached_health() -> None:
    """The health payload is cached across processes (Redis in CI): never carry one test's into the next."""
    from supervision.selectors import HEALTH_CACHE_KEY

    cache.delete(HEALTH_CACHE_KEY)
