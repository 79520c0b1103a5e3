"""Steps a shopper takes, through Django's test client."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.photos import jpeg_with_location
from tickets.models import Ticket


def photo(name: str = "clasp.jpg", data: bytes | None = None, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else jpeg_with_location(), content_type=content_type)


def open_on_page(client: Client, body: str = "手链的扣子断了", **fields: object) -> Ticket:
    """Fill in /shop/ and send; returns the inquiry the page landed on."""
    data = {"body": body, "email": "wang@example.com", **fields}
    response = client.post("/shop/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket_id = int(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    return Ticket.objects.get(pk=ticket_id)
