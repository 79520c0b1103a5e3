"""A shopper writes on their inquiry through the API with photos (multipart/form-data): text,
photos or both; a refused photo is a 400 with the reason and nothing is written."""

import pytest
from rest_framework.test import APIClient

from tests.helpers import stored_files, upload
from tests.photos import image_bytes
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def held_inquiry(ana, inquiry) -> Ticket:
    return inquiry("樱桃烂了一半")


def messages_url(ticket: Ticket) -> str:
    return f"/api/v1/inquiries/{ticket.id}/messages/?token={ticket.tracking_token}"


def test_a_shopper_sends_a_photo_with_or_without_text(held_inquiry: Ticket) -> None:
    shopper = APIClient()
    with_text = shopper.post(messages_url(held_inquiry), {"body": "看图", "photos": [upload()]}, format="multipart")
    photo_only = shopper.post(messages_url(held_inquiry), {"photos": [upload("b.jpg")]}, format="multipart")

    assert (with_text.status_code, photo_only.status_code) == (201, 201)
    shopper_messages = Message.objects.filter(ticket=held_inquiry, author_kind="shopper").order_by("id")
    assert [(m.body, m.attachments.count()) for m in shopper_messages][-2:] == [("看图", 1), ("", 1)]


def test_a_shopper_message_with_a_refused_photo_writes_nothing(held_inquiry: Ticket) -> None:
    before = Message.objects.count()
    response = APIClient().post(
        messages_url(held_inquiry),
        {"body": "看图", "photos": [upload("x.gif", image_bytes("GIF"), "image/gif")]},
        format="multipart",
    )
    assert response.status_code == 400 and "“x.gif” is not a photo we accept" in response.data["photos"][0]
    assert Message.objects.count() == before and stored_files() == []


def test_a_shopper_message_needs_text_or_a_photo(held_inquiry: Ticket) -> None:
    for data, fmt in [({"body": "  "}, "json"), ({}, "multipart")]:
        response = APIClient().post(messages_url(held_inquiry), data, format=fmt)
        assert response.status_code == 400 and "body" in response.data, (data, fmt)
