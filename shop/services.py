"""Writes from the shopper page that no lower app offers as one call."""

from collections.abc import Sequence

from django.db import transaction

from teams.models import Language
from tickets.attachments import PreparedImage, store_images
from tickets.models import Channel, Message, Ticket
from tickets.services import OrderSnapshot, ShopperDetails, open_ticket


def open_inquiry_from_page(
    *,
    shopper_key: str,
    body: str,
    email: str = "",
    phone: str = "",
    name: str = "",
    order_number: str = "",
    page_language: str = "",
    photos: Sequence[PreparedImage] = (),
) -> Ticket:
    """Open an inquiry typed on the shopper page, with its photos on the first message.

    Atomic: the ticket, its first message and the photos' rows commit together (routing is
    kicked after that commit). `shopper_key` is the browser's own shopper id (shop.access), so
    a stranger typing someone else's email never edits that person's record.
    """
    language = Language.ZH if page_language.startswith("zh") else Language.EN
    with transaction.atomic():
        result = open_ticket(
            shopper=ShopperDetails(external_id=shopper_key, name=name, phone=phone, email=email, language=language),
            channel=Channel.WEB_FORM,
            body=body,
            order=OrderSnapshot(number=order_number) if order_number else None,
        )
        first = Message.objects.filter(ticket=result.ticket).order_by("id").first()
        if first is not None:
            store_images(message=first, images=photos)
    return result.ticket
