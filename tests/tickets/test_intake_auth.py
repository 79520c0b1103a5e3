"""The storefront's token is checked once and remembered briefly; a wrong token never is."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core import auth
from teams.models import ApiToken
from tests.helpers import INTAKE_URL, inquiry_payload


def _token_queries(client: APIClient, body: dict) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        status = client.post(INTAKE_URL, body, format="json").status_code
    return status, sum("teams_apitoken" in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db
def test_a_valid_token_is_looked_up_once_then_remembered(storefront_client: APIClient) -> None:
    assert _token_queries(storefront_client, inquiry_payload(shopper__external_id="u-1")) == (201, 1)
    assert _token_queries(storefront_client, inquiry_payload(shopper__external_id="u-2")) == (201, 0)


@pytest.mark.django_db
def test_a_wrong_token_is_refused_every_time_and_never_remembered(db: None) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "f" * 40)
    for _ in range(2):
        assert _token_queries(client, inquiry_payload()) == (401, 1)
    assert auth.CachedTokenAuthentication._valid == {}


@pytest.mark.django_db
def test_a_deleted_token_stops_working_once_its_memory_expires(
    storefront_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        storefront_client.post(INTAKE_URL, inquiry_payload(shopper__external_id="u-3"), format="json").status_code
        == 201
    )
    ApiToken.objects.filter(user=storefront_client.user).delete()  # type: ignore[attr-defined]  # a test-only attribute set on the APIClient
    # Within the memory window the process still knows the token (the documented trade-off) ...
    assert (
        storefront_client.post(INTAKE_URL, inquiry_payload(shopper__external_id="u-4"), format="json").status_code
        == 201
    )
    # ... and once the window has passed, it is refused.
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + auth.TOKEN_CACHE_SECONDS + 1)
    assert (
        storefront_client.post(INTAKE_URL, inquiry_payload(shopper__external_id="u-5"), format="json").status_code
        == 401
    )
