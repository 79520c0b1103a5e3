"""Supervisors are told on their dashboard when a storefront endpoint keeps failing or was disabled."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from teams.models import AgentProfile
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_the_dashboard_names_a_disabled_endpoint_and_a_failing_one(
    sam: AgentProfile,
    signed_in: Callable[[AgentProfile], Client],
    endpoint_for: Callable[..., WebhookEndpoint],
) -> None:
    now = timezone.now()
    dead = endpoint_for("https://shop.example/hooks/dead")
    WebhookEndpoint.objects.filter(pk=dead.pk).update(
        disabled_at=now, disabled_reason="20 failed attempts in a row", consecutive_failures=20
    )
    flaky = endpoint_for("https://shop.example/hooks/flaky")
    WebhookEndpoint.objects.filter(pk=flaky.pk).update(consecutive_failures=2, failing_since=now - timedelta(minutes=3))
    endpoint_for("https://shop.example/hooks/fine")

    page = signed_in(sam).get("/console/dashboard/").content.decode()

    assert "Storefront webhooks" in page
    assert "https://shop.example/hooks/dead" in page
    assert "after 20 failed attempts in a row: events are not reaching the storefront" in page
    assert "2 failed attempts in a row since" in page
    assert "https://shop.example/hooks/fine" not in page


def test_with_healthy_endpoints_the_webhook_card_stays_hidden(
    sam: AgentProfile,
    signed_in: Callable[[AgentProfile], Client],
    endpoint_for: Callable[..., WebhookEndpoint],
) -> None:
    endpoint_for("https://shop.example/hooks/fine")

    page = signed_in(sam).get("/console/dashboard/live/").content.decode()

    assert 'id="webhook-alerts"' in page  # present for live swaps...
    assert "hidden>" in page.split('id="webhook-alerts"')[1].split("\n")[0]  # ...but hidden
