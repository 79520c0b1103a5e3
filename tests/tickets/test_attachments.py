"""Photos on messages: only real JPEG/PNG/WebP/HEIC photos are taken, cleaned of their metadata,
thumbnailed by a task, and a refusal leaves nothing behind."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from routing.services import add_shopper_message
from tests.factories import TicketFactory
from tests.photos import has_gps, image_bytes, jpeg_with_location
from tickets.attachments import AttachmentRefused, NamedBytes, prepare_images
from tickets.models import Attachment
from tickets.tasks import sweep_missing_thumbnails

pytestmark = pytest.mark.django_db


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_a_phone_photo_loses_its_location_and_camera_but_keeps_its_pixels() -> None:
    original = jpeg_with_location()
    assert has_gps(original)

    [photo] = prepare_images([upload("IMG_0001.jpg", original)])

    assert photo.content_type == "image/jpeg" and (photo.width, photo.height) == (800, 600)
    assert not has_gps(photo.content)


@pytest.mark.parametrize(
    ("fmt", "stored_type"),
    [("PNG", "image/png"), ("WEBP", "image/webp"), ("JPEG", "image/jpeg"), ("HEIF", "image/jpeg")],
)
def test_jpeg_png_webp_and_heic_are_taken_and_heic_is_stored_as_jpeg(fmt: str, stored_type: str) -> None:
    [photo] = prepare_images([NamedBytes(f"photo.{fmt.lower()}", image_bytes(fmt))])
    assert photo.content_type == stored_type


def test_the_type_is_read_from_the_content_not_from_the_name_or_the_header() -> None:
    png_named_jpg = upload("cherries.jpg", image_bytes("PNG"), content_type="image/jpeg")
    [photo] = prepare_images([png_named_jpg])
    assert photo.content_type == "image/png"

    script_named_jpg = upload("cherries.jpg", b"<script>alert(1)</script>" * 20, content_type="image/jpeg")
    with pytest.raises(AttachmentRefused, match="not a photo we accept"):
        prepare_images([script_named_jpg])


def test_a_gif_is_refused_with_the_reason() -> None:
    with pytest.raises(AttachmentRefused, match=r"“anim.gif” is not a photo we accept: send JPEG, PNG, WebP or HEIC"):
        prepare_images([upload("anim.gif", image_bytes("GIF"), content_type="image/gif")])


def test_an_oversized_file_is_refused_before_it_is_decoded(settings) -> None:
    settings.ATTACHMENT_MAX_BYTES = 2048
    with pytest.raises(AttachmentRefused, match=r"too large: photos may be up to 2\.0"):
        prepare_images([upload("big.jpg", jpeg_with_location((1200, 900)))])


def test_a_decompression_bomb_is_refused(settings) -> None:
    settings.ATTACHMENT_MAX_PIXELS = 10_000
    with pytest.raises(AttachmentRefused, match="too many pixels"):
        prepare_images([upload("huge.png", image_bytes("PNG", size=(200, 200)))])


def test_more_photos_than_allowed_are_refused(settings) -> None:
    settings.ATTACHMENT_MAX_PER_MESSAGE = 2
    with pytest.raises(AttachmentRefused, match="at most 2 photos"):
        prepare_images([NamedBytes(f"{i}.png", image_bytes("PNG")) for i in range(3)])


def test_a_truncated_photo_is_refused() -> None:
    with pytest.raises(AttachmentRefused, match="not a photo we accept"):
        prepare_images([upload("broken.jpg", jpeg_with_location()[:400])])


def test_photos_are_stored_with_the_message_and_thumbnailed_by_the_task(
    eager_celery, django_capture_on_commit_callbacks
) -> None:
    ticket = TicketFactory.create(status="queued")
    photos = prepare_images([upload("rotten.jpg", jpeg_with_location((1600, 1200)))])
    with django_capture_on_commit_callbacks(execute=True):
        message = add_shopper_message(ticket_id=ticket.id, body="half are rotten", photos=photos)

    [attachment] = Attachment.objects.filter(message=message)
    assert attachment.original_name == "rotten.jpg"
    assert not attachment.file.name.startswith("rotten")  # a random name, nothing of the shopper's
    assert attachment.thumbnail, "the task made the thumbnail after commit"
    from PIL import Image

    with attachment.thumbnail.open("rb") as thumb, Image.open(thumb) as image:
        assert max(image.size) == 320


def test_the_sweep_makes_thumbnails_whose_task_was_lost() -> None:
    ticket = TicketFactory.create(status="queued")
    photos = prepare_images([upload("a.png", image_bytes("PNG"))])
    message = add_shopper_message(ticket_id=ticket.id, body="", photos=photos)  # no commit hook ran: task "lost"
    attachment = Attachment.objects.get(message=message)
    assert not attachment.thumbnail

    assert sweep_missing_thumbnails() == 0  # too fresh: its task may still be on the way
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        assert sweep_missing_thumbnails() == 1
        assert sweep_missing_thumbnails() == 0  # idempotent
    attachment.refresh_from_db()
    assert attachment.thumbnail
