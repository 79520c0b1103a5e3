"""Dates near the ends of the calendar are input errors (400 or a form message), never a 500."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from callbacks.models import Callback
from tests.callbacks.conftest import at_shanghai

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2028-01-01"])
def test_slots_from_a_date_far_away_are_a_400_on_from(ticket_of, wang, day: str) -> None:
    ticket = ticket_of(wang)
    response = APIClient().get(
        f"/api/v1/inquiries/{ticket.id}/callback-slots/", {"from": day}, HTTP_X_TRACKING_TOKEN=ticket.tracking_token
    )
    assert response.status_code == 400
    assert list(response.json()) == ["from"]


def test_slots_past_the_booking_horizon_are_simply_none(ticket_of, wang) -> None:
    ticket = ticket_of(wang)
    response = APIClient().get(
        f"/api/v1/inquiries/{ticket.id}/callback-slots/",
        {"from": "2027-06-01", "days": "14"},
        HTTP_X_TRACKING_TOKEN=ticket.tracking_token,
    )
    assert response.status_code == 200 and response.json()["slots"] == []


@pytest.mark.parametrize(
    "payload", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "9999-12-31T23:59Z"]
)
def test_booking_at_the_ends_of_the_calendar_through_the_api_is_a_400(ticket_of, wang, payload: str) -> None:
    ticket = ticket_of(wang)
    response = APIClient().post(
        f"/api/v1/inquiries/{ticket.id}/callbacks/",
        {"slot_start": payload},
        format="json",
        HTTP_X_TRACKING_TOKEN=ticket.tracking_token,
    )
    assert response.status_code == 400 and "slot_start" in response.json()
    assert Callback.objects.count() == 0


def _signed_in(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "0001-01-01T07:59", "9999-12-31T23:59", "1899-05-05T10:00"])
def test_ana_booking_at_year_1_or_9999_gets_a_form_error(ticket_of, wang, ana, when: str) -> None:
    ticket = ticket_of(wang)
    response = _signed_in(ana).post(
        f"/console/callbacks/tickets/{ticket.id}/book/",
        {"scheduled_at": when, "window": "120", "phone": "+8613800138000", "owner": "me"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Enter a date between the years 2000 and 2999" in _messages(response)
    assert Callback.objects.count() == 0


def test_rescheduling_to_year_1_gets_a_form_error(booked, ana) -> None:
    callback = booked(at_shanghai(23, 14))
    response = _signed_in(ana).post(
        f"/console/callbacks/{callback.pk}/outcome/",
        {"outcome": "reschedule", "reschedule_to": "0001-01-01T00:00"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Enter a date between the years 2000 and 2999" in _messages(response)
    callback.refresh_from_db()
    assert callback.scheduled_at == at_shanghai(23, 14)


@pytest.mark.parametrize("slot", ["9999-12-31T23:59:59-1200", "0001-01-01T00:00:00+1400"])
def test_the_shoppers_page_refuses_a_slot_at_the_ends_of_the_calendar(booked, slot: str) -> None:
    from callbacks.links import make_link_token

    callback = booked(at_shanghai(23, 14))
    token = make_link_token(callback.pk)
    response = Client().post(f"/callbacks/{token}/reschedule/", {"slot": slot}, follow=True)
    assert response.status_code == 200
    callback.refresh_from_db()
    assert callback.version == 1
