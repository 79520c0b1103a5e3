"""A storefront attaches photos to an inquiry, and a shopper to a message, through the API:
multipart/form-data with the same fields. A refused file is a 400 with the file's name and the
reason, and nothing is written (no ticket, no message, no file); a retry with the same
Idempotency-Key returns the first ticket and stores no second photo. (The message endpoint's
photos: tests/routing/test_shopper_photos_api.py.)"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.helpers import INTAKE_URL as URL
from tests.helpers import VALID_INQUIRY as VALID
from tests.helpers import stored_files, upload
from tests.photos import has_gps, image_bytes, jpeg_with_location
from tickets.models import Attachment, Message, Ticket

pytestmark = pytest.mark.django_db


def form(*photos: SimpleUploadedFile, **fields: object) -> dict[str, object]:
    """The JSON payload as multipart fields: nested ones named with a dot."""
    flat: dict[str, object] = {f"shopper.{k}": v for k, v in VALID["shopper"].items()}
    flat |= {f"order.{k}": str(v).lower() if isinstance(v, bool) else v for k, v in VALID["order"].items()}
    flat |= {k: VALID[k] for k in ("channel", "subject", "body")}
    flat |= fields
    if photos:
        flat["photos"] = list(photos)
    return flat


def test_an_inquiry_with_photos_is_opened_from_a_multipart_form(storefront_client: APIClient) -> None:
    response = storefront_client.post(
        URL, form(upload(), upload("box.png", image_bytes("PNG"), "image/png")), format="multipart"
    )

    assert response.status_code == 201, response.data
    ticket = Ticket.objects.get(pk=response.data["id"])
    assert ticket.shopper.external_id == "u-1001" and ticket.order_number == "JD2026112500001"
    assert ticket.order_paid is True
    first = Message.objects.get(ticket=ticket)
    photos = list(first.attachments.order_by("id"))
    assert [p.content_type for p in photos] == ["image/jpeg", "image/png"]
    with photos[0].file.open("rb") as stored:
        assert not has_gps(stored.read()), "the location was stripped"


def test_json_without_photos_is_answered_as_before(storefront_client: APIClient) -> None:
    response = storefront_client.post(URL, VALID, format="json")
    assert response.status_code == 201
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("photo", "reason"),
    [
        (upload("anim.gif", image_bytes("GIF"), "image/gif"), "“anim.gif” is not a photo we accept"),
        (upload("receipt.jpg", b"%PDF-1.7 not a photo" * 20), "“receipt.jpg” is not a photo we accept"),
        (upload("empty.jpg", b"x"), "“empty.jpg” is not a photo we accept"),
    ],
)
def test_a_refused_photo_is_a_400_with_the_reason_and_nothing_is_written(
    storefront_client: APIClient, photo: SimpleUploadedFile, reason: str
) -> None:
    response = storefront_client.post(URL, form(upload("fine.jpg"), photo), format="multipart")

    assert response.status_code == 400
    assert reason in response.data["photos"][0]
    assert not Ticket.objects.exists() and not Message.objects.exists()
    assert stored_files() == []


def test_an_oversized_photo_and_too_many_photos_are_refused(storefront_client: APIClient, settings) -> None:
    settings.ATTACHMENT_MAX_BYTES = 2048
    big = storefront_client.post(URL, form(upload("big.jpg")), format="multipart")
    assert big.status_code == 400 and "“big.jpg” is too large" in big.data["photos"][0]

    settings.ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    settings.ATTACHMENT_MAX_PER_MESSAGE = 2
    many = storefront_client.post(URL, form(*(upload(f"{n}.jpg") for n in range(3))), format="multipart")
    assert many.status_code == 400 and "at most 2 photos" in many.data["photos"][0]
    assert not Ticket.objects.exists() and stored_files() == []


def test_bad_fields_in_a_multipart_form_are_refused_field_by_field(storefront_client: APIClient) -> None:
    response = storefront_client.post(URL, form(upload(), **{"shopper.phone": "call me"}), format="multipart")
    assert response.status_code == 400
    assert "phone" in response.data["shopper"]
    assert not Ticket.objects.exists() and stored_files() == []


def test_a_retry_with_the_same_key_returns_the_first_ticket_and_stores_no_second_photo(
    storefront_client: APIClient,
) -> None:
    picture = jpeg_with_location()
    first = storefront_client.post(
        URL, form(upload(data=picture)), format="multipart", HTTP_IDEMPOTENCY_KEY="order-1-photo"
    )
    retry = storefront_client.post(
        URL, form(upload(data=picture)), format="multipart", HTTP_IDEMPOTENCY_KEY="order-1-photo"
    )

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.data == first.data and retry["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1 and Attachment.objects.count() == 1
    assert len(stored_files()) == 1, "the retry wrote no file"

    other_photo = storefront_client.post(
        URL,
        form(upload(data=jpeg_with_location(colour="#1e8449"))),
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="order-1-photo",
    )
    assert other_photo.status_code == 422, "the key stood for another photo"


def test_the_schema_describes_photos_on_both_endpoints() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    intake = schema["paths"]["/api/v1/inquiries/"]["post"]["requestBody"]["content"]
    message = schema["paths"]["/api/v1/inquiries/{ticket_id}/messages/"]["post"]["requestBody"]["content"]
    for content in (intake, message):
        assert {"application/json", "multipart/form-data"} <= set(content)
        photos = content["multipart/form-data"]["schema"]
        assert photos["$ref"]
    components = schema["components"]["schemas"]
    assert components["InquiryWithPhotos"]["properties"]["photos"]["items"]["format"] == "binary"
    assert components["ShopperMessage"]["properties"]["photos"]["items"]["format"] == "binary"
