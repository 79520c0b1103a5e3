"""Shared fixtures: personas, API clients, and the real services integration tests need."""

import os

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from teams.services import STOREFRONT_GROUP, ensure_roles
from tests.factories import UserFactory


def service_missing(reason: str) -> None:
    """Skip on a developer machine; fail under CI, where every service must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI is set, so this integration test must not skip.")
    pytest.skip(reason)


@pytest.fixture
def postgres(db: None) -> None:
    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture
def redis_broker() -> str:
    if not settings.REDIS_URL:
        service_missing("needs Redis: set REDIS_URL=redis://...")
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_missing(f"Redis at {settings.REDIS_URL} does not answer: {exc}")
    return settings.REDIS_URL


@pytest.fixture
def storefront_client(db: None) -> APIClient:
    """The storefront's API client, authenticated with its token."""
    groups = ensure_roles()
    user = UserFactory(username="storefront")
    user.groups.add(groups[STOREFRONT_GROUP])
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user  # type: ignore[attr-defined]
    return client
