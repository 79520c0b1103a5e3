"""A return both the deadline and the follow-up stories open: Zhao's jeans, too small."""

from aftersales.models import AfterSalesRequest
from aftersales.services import ClaimedItem, open_request
from tests.photos import jpeg_with_location
from tickets.attachments import NamedBytes, prepare_images
from tickets.models import Ticket


def return_jeans(ticket: Ticket) -> AfterSalesRequest:
    return open_request(
        ticket_id=ticket.id,
        kind="return_refund",
        items=[ClaimedItem(item_id="1", quantity=1)],
        amount="259.00",
        reason="Too small",
        photos=prepare_images([NamedBytes("jeans.jpg", jpeg_with_location())]),
    ).request
