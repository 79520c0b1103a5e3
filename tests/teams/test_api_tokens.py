"""API tokens are stored as digests: the token is shown once, works, and a database copy opens nothing."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from core.auth import token_digest
from teams.models import ApiToken
from teams.services import issue_api_token, revoke_api_tokens
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_database_holds_only_a_digest_of_the_token() -> None:
    token = issue_api_token(user=UserFactory.create(username="shop"), name="storefront-web")
    row = ApiToken.objects.values().get()
    assert token not in {str(value) for value in row.values()}
    assert row["key_digest"] == token_digest(token) and row["prefix"] == token[:8]


def test_create_api_client_prints_a_working_token_and_can_rotate() -> None:
    out = io.StringIO()
    call_command("create_api_client", "storefront-web", stdout=out)
    first = out.getvalue().strip()
    ok = APIClient(HTTP_AUTHORIZATION=f"Token {first}").post("/api/v1/classify/", {"text": "戒指"}, format="json")
    assert ok.status_code == 200

    out = io.StringIO()
    call_command("create_api_client", "storefront-web", "--revoke-others", stdout=out, stderr=io.StringIO())
    second = out.getvalue().strip()
    assert second != first
    assert list(ApiToken.objects.values_list("key_digest", flat=True)) == [token_digest(second)]


def test_the_digest_itself_is_not_a_token() -> None:
    user = UserFactory.create(username="shop")
    token = issue_api_token(user=user)
    refused = APIClient(HTTP_AUTHORIZATION=f"Token {token_digest(token)}").get("/api/v1/tickets/")
    assert refused.status_code == 401
    assert revoke_api_tokens(user=user) == 1


def test_seed_demo_keeps_the_documented_demo_token_working() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent: still one token
    from ops.management.commands.seed_demo import DEMO_API_TOKEN

    response = APIClient(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}").post(
        "/api/v1/classify/", {"text": "宝宝纸尿裤漏了"}, format="json"
    )
    assert response.status_code == 200
    assert ApiToken.objects.filter(key_digest=token_digest(DEMO_API_TOKEN)).count() == 1
