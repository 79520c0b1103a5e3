"""The shopper's callback API: free slots in UTC and local time, booking with field errors."""

import pytest
from rest_framework.test import APIClient

from callbacks.models import Callback
from callbacks.services import policy_for
from notifications.models import Notification
from tests.factories import queue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def ticket(ticket_of, wang):
    return ticket_of(wang)


def slots_url(ticket, token: str | None = None, **params: object) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"token": token or ticket.tracking_token, **params}.items())
    return f"/api/v1/inquiries/{ticket.id}/callback-slots/?{query}"


def book_url(ticket, token: str | None = None) -> str:
    return f"/api/v1/inquiries/{ticket.id}/callbacks/?token={token or ticket.tracking_token}"


def test_slots_come_in_utc_and_in_the_shoppers_local_time(ticket) -> None:
    response = APIClient().get(slots_url(ticket, days=1))
    assert response.status_code == 200
    body = response.json()
    assert (body["queue"], body["time_zone"]) == ("jewelry", "Asia/Shanghai")
    first = body["slots"][0]
    assert first == {
        "start": "2026-11-23T02:30:00Z",
        "end": "2026-11-23T03:00:00Z",
        "start_local": "2026-11-23T10:30:00+08:00",
        "end_local": "2026-11-23T11:00:00+08:00",
        "remaining": 4,
    }
    later = APIClient().get(slots_url(ticket, **{"from": "2026-11-24", "days": "2"})).json()["slots"]
    assert later[0]["start_local"] == "2026-11-24T09:00:00+08:00"


def test_a_wrong_token_is_a_404_and_bad_query_values_are_400_by_field(ticket) -> None:
    assert APIClient().get(slots_url(ticket, token="nope")).status_code == 404
    assert APIClient().post(book_url(ticket, token="nope"), {}, format="json").status_code == 404
    bad = APIClient().get(slots_url(ticket, **{"from": "someday", "days": "99"}))
    assert bad.status_code == 400 and set(bad.json()) == {"from", "days"}


def test_the_shopper_books_a_free_slot_and_gets_the_whole_slot_as_window(ticket) -> None:
    response = APIClient().post(
        book_url(ticket), {"slot_start": "2026-11-23T14:00:00+08:00", "note": "请下午打"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["scheduled_at"] == "2026-11-23T06:00:00Z" and body["window_end"] == "2026-11-23T06:30:00Z"
    assert body["scheduled_local"] == "2026-11-23T14:00:00+08:00"
    assert body["phone"] == "+8613800138000" and "/callbacks/" in body["link"]
    callback = Callback.objects.get()
    assert callback.booked_by == "shopper" and callback.owner == ticket.assigned_agent
    assert Notification.objects.filter(callback=callback, kind="confirmation").count() == 2
    listed = APIClient().get(book_url(ticket)).json()
    assert [c["id"] for c in listed] == [callback.id]


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"slot_start": "2026-11-23T09:00:00+08:00"}, "slot_start", "This time is in the past."),
        ({"slot_start": "2026-11-23T20:00:00+08:00"}, "slot_start", "outside the queue's business hours"),
        ({"slot_start": "2026-11-23T14:10:00+08:00"}, "slot_start", "Choose the start of one of the offered slots."),
        ({"slot_start": "2026-11-23T10:00:00+08:00"}, "slot_start", "Book at least 15 minutes ahead."),
        ({"slot_start": "next tuesday"}, "slot_start", "Datetime has wrong format"),
        ({"slot_start": "2026-11-23T14:00:00"}, "slot_start", "Give the time with its offset"),
        ({"slot_start": "2026-11-23T14:00:00+08:00", "phone": "12ab"}, "phone", "6 to 15 digits"),
        ({}, "slot_start", "required"),
    ],
)
def test_bad_bookings_get_400_with_the_field_and_the_reason(ticket, payload, field, message) -> None:
    response = APIClient().post(book_url(ticket), payload, format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert Callback.objects.count() == 0 and Notification.objects.count() == 0


def test_a_full_slot_is_refused(ticket, ticket_of, emma) -> None:
    policy = policy_for(queue("jewelry"))
    policy.callbacks_per_slot = 1
    policy.save()
    client = APIClient()
    assert client.post(book_url(ticket), {"slot_start": "2026-11-23T14:00:00+08:00"}, format="json").status_code == 201
    other = ticket_of(emma)  # another shopper wants the same slot
    second = client.post(book_url(other), {"slot_start": "2026-11-23T14:00:00+08:00"}, format="json")
    assert second.status_code == 400 and second.json() == {"slot_start": ["This slot is full; pick another time."]}
    slots = client.get(slots_url(ticket, days=1)).json()["slots"]
    assert "2026-11-23T06:00:00Z" not in [s["start"] for s in slots]


def test_an_inquiry_not_yet_in_a_queue_gets_409(ticket_of, wang) -> None:
    unrouted = ticket_of(wang, agent=None)
    unrouted.queue = None
    unrouted.save()
    assert APIClient().get(slots_url(unrouted)).status_code == 409
    response = APIClient().post(book_url(unrouted), {"slot_start": "2026-11-23T14:00:00+08:00"}, format="json")
    assert response.status_code == 409


def test_the_schema_documents_the_callback_endpoints() -> None:
    schema = APIClient().get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/inquiries/{ticket_id}/callbacks/" in paths
    assert "/api/v1/inquiries/{ticket_id}/callback-slots/" in paths


def test_a_double_submitted_booking_makes_one_callback_and_the_second_gets_409(ticket) -> None:
    payload = {"slot_start": "2026-11-23T14:00:00+08:00"}
    first = APIClient().post(book_url(ticket), payload, format="json")
    second = APIClient().post(book_url(ticket), payload, format="json")
    assert first.status_code == 201
    assert second.status_code == 409 and "already has a callback planned" in second.json()["detail"]
    assert Callback.objects.count() == 1
