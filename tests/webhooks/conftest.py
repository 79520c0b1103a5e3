"""Webhook fixtures: a real receiver on loopback, the storefront client's endpoint, clean caches."""

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User

from teams.services import STOREFRONT_GROUP, ensure_roles
from tests.factories import UserFactory
from tests.webhooks.receiver import Receiver, serve
from webhooks.models import WebhookEndpoint
from webhooks.outbox import forget_subscriptions
from webhooks.services import create_endpoint


@pytest.fixture(autouse=True)
def _fresh_subscriptions() -> Iterator[None]:
    forget_subscriptions()
    yield
    forget_subscriptions()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve(Receiver())


@pytest.fixture
def storefront(db: None) -> User:
    user = UserFactory.create(username="storefront-web")
    user.groups.add(ensure_roles()[STOREFRONT_GROUP])
    return user


@pytest.fixture
def endpoint_for(storefront: User) -> Callable[..., WebhookEndpoint]:
    def make(url: str, event_types: list[str] | None = None) -> WebhookEndpoint:
        return create_endpoint(client=storefront, url=url, event_types=event_types or ["*"], secret="whsec_test")

    return make


@pytest.fixture
def fast_retries(settings: object) -> None:
    """Retry and rest intervals of milliseconds, so a test retries by waiting a moment."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.01  # type: ignore[attr-defined]  # the settings fixture is annotated as object
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5  # type: ignore[attr-defined]  # the settings fixture is annotated as object
