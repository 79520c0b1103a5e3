"""Shared fixtures: personas, API clients, and the real services integration tests need."""

import os
from collections.abc import Iterator

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


@pytest.fixture(scope="session", autouse=True)
def classifier_artifact() -> None:
    """The classifier the product loads; built from the project's data when missing (as make install does)."""
    from classification import textmodel

    path = settings.CLASSIFIER_MODEL_PATH
    if not path.exists():
        train, _ = textmodel.split_holdout(textmodel.load_examples())
        textmodel.save(textmodel.train(train), path)


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run enqueued tasks inline, as the worker would, right after the enqueuing commit."""
    from cxconsole.celery import app as celery_app

    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False
        celery_app.conf.task_eager_propagates = False


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> None:
    """Per-process TTL caches and rate-limit blocks must not carry one test's users or categories into the next."""
    from core.auth import CachedTokenAuthentication
    from core.throttling import forget_leases
    from teams.selectors import clear_config_cache
    from tickets.api import _may_submit, category_slugs

    CachedTokenAuthentication.forget_all()
    forget_leases()
    clear_config_cache()
    _may_submit.cache_clear()  # type: ignore[attr-defined]
    category_slugs.cache_clear()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _no_pending_kicks() -> None:
    """A kick flag left by one test (a publish recorded, never run) must not swallow the next
    test's kick: every test starts with none pending."""
    from django.core.cache import cache

    if not settings.REDIS_URL:
        cache.clear()
        return
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
        keys = list(client.scan_iter(match="*kick:*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # no Redis: the tests that need it say so themselves


@pytest.fixture(autouse=True)
def _attachments_in_tmp(settings: object, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Photos stored by a test go to a scratch folder, never to var/attachments."""
    storages = dict(settings.STORAGES)  # type: ignore[attr-defined]
    storages["attachments"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path_factory.mktemp("attachments"))},
    }
    settings.STORAGES = storages  # type: ignore[attr-defined]
