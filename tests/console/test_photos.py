"""Agents attach photos to replies and see the shopper's; only those who may see the ticket get them."""

import pytest

from routing.services import add_shopper_message
from tests.photos import image_bytes
from tests.shop.helpers import photo
from tickets.attachments import prepare_images
from tickets.models import Attachment, Message

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_only_agents_who_see_the_ticket_and_supervisors_get_its_photos(ana, mei, sam, inquiry, signed_in) -> None:
    ticket = inquiry("扣子断了")
    message = add_shopper_message(ticket_id=ticket.id, body="", photos=prepare_images([photo()]))
    shot = Attachment.objects.get(message=message)
    url = f"/console/tickets/{ticket.id}/photos/{shot.id}/"

    assert signed_in(ana).get(url).status_code == 200
    assert signed_in(sam).get(url).status_code == 200
    assert signed_in(mei).get(url).status_code == 404  # another queue's ticket
    assert signed_in(ana).get(f"/console/tickets/{ticket.id}/photos/{shot.id}/thumb/").status_code == 200
    page = signed_in(ana).get(f"/console/tickets/{ticket.id}/").content.decode()
    assert url in page  # click to enlarge


def test_a_refused_photo_on_an_agents_reply_is_a_400_and_nothing_is_sent(ana, inquiry, signed_in) -> None:
    ticket = inquiry("扣子断了")
    response = signed_in(ana).post(
        f"/console/tickets/{ticket.id}/reply/",
        {"body": "看图", "photos": [photo("a.gif", image_bytes("GIF"), "image/gif")]},
    )
    assert response.status_code == 400
    assert "is not a photo we accept" in response.content.decode()
    assert not Message.objects.filter(ticket=ticket, body="看图").exists()
