"""A storefront registers its endpoints through the API; admins read the delivery log and resend."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from teams.services import issue_api_token
from tests.factories import UserFactory
from tests.webhooks.receiver import Receiver
from tickets.services import ShopperDetails, open_ticket
from webhooks.delivery import deliver_endpoint
from webhooks.fanout import fan_out
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(storefront: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(user=storefront)}")
    return client


def test_a_storefront_registers_an_endpoint_and_events_reach_it(api: APIClient, receiver: Receiver) -> None:
    response = api.post(
        "/api/v1/webhooks/endpoints/", {"url": receiver.url, "event_types": ["ticket.created"]}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    open_ticket(shopper=ShopperDetails(external_id="u-1"), channel="chat", body="手镯尺寸", language="zh")
    deliver_endpoint(endpoint_id=body["id"])
    assert receiver.types == ["ticket.created"]
    deliveries = api.get(f"/api/v1/webhooks/endpoints/{body['id']}/deliveries/").json()
    assert [(d["type"], d["status"]) for d in deliveries] == [("ticket.created", "delivered")]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "ftp://example.com/x", "event_types": ["*"]}, "url"),
        ({"url": "not a url", "event_types": ["*"]}, "url"),
        ({"url": "https://example.com/x", "event_types": ["ticket.exploded"]}, "event_types"),
        ({"url": "https://example.com/x", "event_types": []}, "event_types"),
        ({"url": "https://example.com/x", "event_types": ["*"], "secret": "short"}, "secret"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(api: APIClient, payload: dict, field: str) -> None:
    response = api.post("/api/v1/webhooks/endpoints/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert WebhookEndpoint.objects.count() == 0


def test_a_client_cannot_see_or_change_another_clients_endpoint(
    api: APIClient, endpoint_for: Callable[..., WebhookEndpoint]
) -> None:
    other = WebhookEndpoint.objects.create(
        client=UserFactory.create(username="other-shop"), url="https://other.example/h"
    )

    assert api.get(f"/api/v1/webhooks/endpoints/{other.pk}/").status_code == 404
    assert api.patch(f"/api/v1/webhooks/endpoints/{other.pk}/", {"is_active": False}, format="json").status_code == 404
    assert api.get("/api/v1/webhooks/endpoints/").json() == []


def test_agents_tokens_may_not_manage_webhooks(db: None) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(user=UserFactory.create(username='ana'))}")
    assert client.get("/api/v1/webhooks/endpoints/").status_code == 403


def test_turning_a_disabled_endpoint_active_again_forgets_its_failures(
    api: APIClient, endpoint_for: Callable[..., WebhookEndpoint]
) -> None:
    endpoint = endpoint_for("https://shop.example/h")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_at=timezone.now(), disabled_reason="kept failing", consecutive_failures=30
    )

    response = api.patch(f"/api/v1/webhooks/endpoints/{endpoint.pk}/", {"is_active": True}, format="json")

    assert response.status_code == 200
    assert (response.json()["disabled_at"], response.json()["consecutive_failures"]) == (None, 0)


def test_resending_a_time_range_sends_those_events_again_with_their_ids(
    api: APIClient, receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint]
) -> None:
    endpoint = endpoint_for(receiver.url, ["ticket.created"])
    for n in range(3):
        open_ticket(shopper=ShopperDetails(external_id=f"u-{n}"), channel="chat", body="耳环", language="zh")
    deliver_endpoint(endpoint_id=endpoint.pk)
    first_ids = [e["id"] for e in receiver.envelopes]

    response = api.post(
        f"/api/v1/webhooks/endpoints/{endpoint.pk}/resend/",
        {"since": (timezone.now() - timedelta(minutes=5)).isoformat(), "until": timezone.now().isoformat()},
        format="json",
    )
    deliver_endpoint(endpoint_id=endpoint.pk)

    assert response.status_code == 202 and response.json() == {"queued": 3}
    # The three tickets' events may arrive in any order (only one ticket's events keep theirs).
    again = [e["id"] for e in receiver.envelopes][3:]
    assert sorted(again) == sorted(first_ids) and len(set(first_ids)) == 3
    bad = api.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/resend/", {"since": timezone.now()}, format="json")
    assert bad.status_code == 400


def test_resending_chosen_events_by_their_ids_sends_just_those(
    api: APIClient, receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint]
) -> None:
    endpoint = endpoint_for(receiver.url, ["ticket.created"])
    for n in range(3):
        open_ticket(shopper=ShopperDetails(external_id=f"u-{n}"), channel="chat", body="耳环", language="zh")
    deliver_endpoint(endpoint_id=endpoint.pk)
    first_ids = [e["id"] for e in receiver.envelopes]
    log = api.get(f"/api/v1/webhooks/endpoints/{endpoint.pk}/deliveries/").json()

    response = api.post(
        f"/api/v1/webhooks/endpoints/{endpoint.pk}/resend/",
        {"event_ids": [first_ids[0], first_ids[2], "00000000-0000-7000-8000-000000000000"]},
        format="json",
    )
    deliver_endpoint(endpoint_id=endpoint.pk)

    assert sorted(row["event_id"] for row in log) == sorted(first_ids)  # the log names the envelope ids
    assert response.status_code == 202 and response.json() == {"queued": 2}  # an unknown id is no row
    assert sorted(e["id"] for e in receiver.envelopes[3:]) == sorted([first_ids[0], first_ids[2]])
    not_an_id = api.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/resend/", {"event_ids": ["42"]}, format="json")
    assert not_an_id.status_code == 400


def test_the_admin_finds_an_event_and_its_deliveries_by_the_envelope_id(
    admin_client: object, receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint]
) -> None:
    endpoint_for(receiver.url, ["ticket.created"])
    for n in range(2):
        open_ticket(shopper=ShopperDetails(external_id=f"u-{n}"), channel="chat", body="项链", language="zh")
    wanted, other = WebhookEvent.objects.order_by("seq")
    fan_out()

    events = admin_client.get("/admin/webhooks/webhookevent/", {"q": str(wanted.uuid)})  # type: ignore[attr-defined]  # the admin_client fixture is annotated as object
    deliveries = admin_client.get("/admin/webhooks/webhookdelivery/", {"q": str(wanted.uuid)})  # type: ignore[attr-defined]  # the admin_client fixture is annotated as object
    page = admin_client.get(f"/admin/webhooks/webhookevent/{wanted.pk}/change/")  # type: ignore[attr-defined]  # the admin_client fixture is annotated as object
    nonsense = admin_client.get("/admin/webhooks/webhookevent/", {"q": "not-a-uuid"})  # type: ignore[attr-defined]  # the admin_client fixture is annotated as object

    assert events.status_code == 200
    assert list(events.context["cl"].result_list) == [wanted]
    assert deliveries.status_code == 200
    assert [d.event_id for d in deliveries.context["cl"].result_list] == [wanted.pk]
    assert page.status_code == 200 and str(wanted.uuid).encode() in page.content
    assert nonsense.status_code == 200 and list(nonsense.context["cl"].result_list) == []
    assert str(other.uuid) not in events.content.decode()


def test_the_admin_shows_the_delivery_log_and_resends_one_event(
    admin_client: object, receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint]
) -> None:
    endpoint = endpoint_for(receiver.url, ["ticket.created"])
    open_ticket(shopper=ShopperDetails(external_id="u-1"), channel="chat", body="项链", language="zh")
    deliver_endpoint(endpoint_id=endpoint.pk)
    delivery = WebhookDelivery.objects.get()

    log = admin_client.get("/admin/webhooks/webhookdelivery/")  # type: ignore[attr-defined]  # the admin_client fixture is annotated as object
    page = admin_client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")  # type: ignore[attr-defined]  # the admin_client fixture is annotated as object
    resent = admin_client.post(  # type: ignore[attr-defined]  # the admin_client fixture is annotated as object
        "/admin/webhooks/webhookdelivery/", {"action": "resend", "_selected_action": [delivery.pk]}
    )
    delivery.refresh_from_db()
    deliver_endpoint(endpoint_id=endpoint.pk)

    assert log.status_code == 200 and b"ticket.created" in log.content
    assert page.status_code == 200 and b"200" in page.content
    assert resent.status_code == 302
    assert len(receiver.requests) == 2
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_the_admin_resends_an_endpoints_time_range(
    admin_client: object, receiver: Receiver, endpoint_for: Callable[..., WebhookEndpoint]
) -> None:
    endpoint = endpoint_for(receiver.url, ["ticket.created"])
    open_ticket(shopper=ShopperDetails(external_id="u-1"), channel="chat", body="项链", language="zh")
    deliver_endpoint(endpoint_id=endpoint.pk)
    url = f"/admin/webhooks/webhookendpoint/{endpoint.pk}/resend/"
    now = timezone.now()

    form = admin_client.get(url)  # type: ignore[attr-defined]  # the admin_client fixture is annotated as object
    wrong = admin_client.post(url, {"since": "2026-01-02 00:00", "until": "2026-01-01 00:00"})  # type: ignore[attr-defined]  # the admin_client fixture is annotated as object
    done = admin_client.post(  # type: ignore[attr-defined]  # the admin_client fixture is annotated as object
        url,
        {
            "since": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "until": (now + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
        },
    )
    deliver_endpoint(endpoint_id=endpoint.pk)

    assert form.status_code == 200
    assert wrong.status_code == 200 and b"The end must come after the start" in wrong.content
    assert done.status_code == 302
    assert len(receiver.requests) == 2
