"""Photos on messages: checked and cleaned in memory before any row is written, stored through
the "attachments" storage, thumbnailed later by a Celery task.

Nothing the client says about a file is trusted: its type is what Pillow finds when it decodes
it, not its name or Content-Type. Every accepted photo is decoded and encoded afresh, which drops
its metadata (EXIF, with the GPS position phones write) and anything hidden after the image data.
HEIC (iPhones) is read through pillow-heif and stored as JPEG, which every browser shows.
"""

import hashlib
import io
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import pillow_heif
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from tickets.models import Attachment, Message

logger = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

# Pillow's format name -> (stored format, extension, content type). HEIF becomes JPEG.
ACCEPTED = {
    "JPEG": ("JPEG", "jpg", "image/jpeg"),
    "PNG": ("PNG", "png", "image/png"),
    "WEBP": ("WEBP", "webp", "image/webp"),
    "HEIF": ("JPEG", "jpg", "image/jpeg"),
}
ACCEPT_ATTRIBUTE = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"
THUMBNAIL_SWEEP_GRACE_SECONDS = 5
THUMBNAIL_SWEEP_BATCH = 50


class AttachmentRefused(Exception):
    """A file that is not taken, with the reason in the reader's language (the 400's message)."""


class Upload(Protocol):
    """What an upload offers: Django's UploadedFile, or NamedBytes below."""

    # Read-only: UploadedFile.size and NamedBytes.size are properties.
    @property
    def name(self) -> str | None: ...
    @property
    def size(self) -> int | None: ...

    def read(self, size: int = ..., /) -> bytes: ...


@dataclass
class NamedBytes:
    """Bytes with a name, for callers that got the file some other way (base64 in JSON)."""

    name: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)

    def read(self, size: int = -1) -> bytes:
        return self.content


@dataclass(frozen=True)
class PreparedImage:
    """A checked, re-encoded photo, not yet stored."""

    original_name: str
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    # The upload's own bytes, hashed: what an idempotent retry is compared by.
    source_sha256: str = ""


def _short_name(upload: Upload) -> str:
    return (upload.name or "photo").rsplit("/", 1)[-1][:200]


def prepare_images(uploads: Sequence[Upload]) -> list[PreparedImage]:
    """Check every file and re-encode it; raise AttachmentRefused on the first refused one, so a
    message is sent with all its photos or not at all. Pure: touches neither storage nor database."""
    limit = settings.ATTACHMENT_MAX_PER_MESSAGE
    if len(uploads) > limit:
        raise AttachmentRefused(_("Attach at most %(limit)s photos to one message.") % {"limit": limit})
    return [_prepare(upload) for upload in uploads]


def _prepare(upload: Upload) -> PreparedImage:
    name = _short_name(upload)
    max_bytes = settings.ATTACHMENT_MAX_BYTES
    if upload.size is not None and upload.size > max_bytes:
        raise AttachmentRefused(
            _("“%(name)s” is too large: photos may be up to %(limit)s.") % {"name": name, "limit": _size(max_bytes)}
        )
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise AttachmentRefused(
            _("“%(name)s” is too large: photos may be up to %(limit)s.") % {"name": name, "limit": _size(max_bytes)}
        )
    if not data:
        raise AttachmentRefused(_("“%(name)s” is empty.") % {"name": name})
    not_a_photo = AttachmentRefused(
        _("“%(name)s” is not a photo we accept: send JPEG, PNG, WebP or HEIC images.") % {"name": name}
    )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            found = probe.format or ""
            width, height = probe.size
        if found not in ACCEPTED:
            raise not_a_photo
        if width * height > settings.ATTACHMENT_MAX_PIXELS:
            raise AttachmentRefused(
                _("“%(name)s” has too many pixels (%(width)s×%(height)s).")
                % {"name": name, "width": width, "height": height}
            )
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            cleaned = _clean(image)
    except AttachmentRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        logger.info("Refused upload %r: %s", name, exc)
        raise not_a_photo from exc
    stored_format, extension, content_type = ACCEPTED[found]
    out = io.BytesIO()
    _save(cleaned, out, stored_format)
    return PreparedImage(
        original_name=name,
        content=out.getvalue(),
        content_type=content_type,
        extension=extension,
        width=cleaned.width,
        height=cleaned.height,
        source_sha256=hashlib.sha256(data).hexdigest(),
    )


def _size(n: int) -> str:
    return str(filesizeformat(n))


def _clean(image: Image.Image) -> Image.Image:
    """The pixels alone, turned upright (EXIF orientation applied before EXIF is dropped); the
    first frame of an animation. A new image carries no metadata of the old one."""
    image.seek(0)
    upright = ImageOps.exif_transpose(image) or image
    if upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA" if "A" in upright.getbands() or "transparency" in upright.info else "RGB")
    fresh = Image.new(upright.mode, upright.size)
    fresh.paste(upright)
    return fresh


def _save(image: Image.Image, out: io.BytesIO, fmt: str) -> None:
    if fmt == "JPEG":
        if image.mode != "RGB":
            image = _on_white(image)
        image.save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=85)
    else:
        image.save(out, "PNG", optimize=True)


def _on_white(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _new_name(extension: str, *, kind: str = "") -> str:
    """A random path: nothing about the shopper, the ticket or the order, and not guessable."""
    now = timezone.now()
    return f"{now:%Y/%m}/{uuid.uuid4().hex}{kind}.{extension}"


def store_images(*, message: Message, images: Sequence[PreparedImage]) -> list[Attachment]:
    """Store prepared photos on a message (call inside the transaction that wrote the message);
    their thumbnails are made by a task after commit.

    A file is written before its row: should the transaction roll back, a file is left that no
    row names and no URL serves."""
    attachments = []
    for image in images:
        attachment = Attachment(
            message=message,
            content_type=image.content_type,
            original_name=image.original_name,
            size=len(image.content),
            width=image.width,
            height=image.height,
        )
        attachment.file.save(_new_name(image.extension), ContentFile(image.content), save=False)
        attachment.save()
        attachments.append(attachment)
    if attachments:
        ids = [a.pk for a in attachments]
        transaction.on_commit(lambda: _enqueue_thumbnails(ids), robust=True)
    return attachments


def _enqueue_thumbnails(ids: list[int]) -> None:
    from tickets.tasks import make_thumbnails

    make_thumbnails.delay(ids)


def make_thumbnail(*, attachment_id: int) -> bool:
    """Make one attachment's thumbnail (a JPEG, longer side ATTACHMENT_THUMBNAIL_SIZE). Idempotent:
    an attachment that has one is left alone. True when one was made."""
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None or attachment.thumbnail:
        return False
    size = settings.ATTACHMENT_THUMBNAIL_SIZE
    with attachment.file.open("rb") as source, Image.open(source) as image:
        image.load()
        thumb = image.copy()
    thumb.thumbnail((size, size))
    out = io.BytesIO()
    _save(thumb, out, "JPEG")
    name = _new_name("jpg", kind="-thumb")
    stored = Attachment.thumbnail.field.storage.save(name, ContentFile(out.getvalue()))
    # Two runs racing: the row keeps the first thumbnail; the other file is removed.
    won = Attachment.objects.filter(pk=attachment.pk, thumbnail="").update(thumbnail=stored)
    if not won:
        Attachment.thumbnail.field.storage.delete(stored)
        return False
    _announce(attachment)
    return True


def _announce(attachment: Attachment) -> None:
    from tickets.events import notify_ticket_changed

    message = Message.objects.select_related("ticket").get(pk=attachment.message_id)
    notify_ticket_changed(message.ticket, kind="attachment")


def make_thumbnails(*, attachment_ids: Iterable[int]) -> int:
    made = 0
    for attachment_id in attachment_ids:
        try:
            made += make_thumbnail(attachment_id=attachment_id)
        except Exception:
            # A stored file that no longer decodes (storage trouble): the full photo still serves.
            logger.exception("Could not make the thumbnail of attachment %s", attachment_id)
    return made


def missing_thumbnail_ids(*, limit: int = THUMBNAIL_SWEEP_BATCH) -> list[int]:
    """Attachments still without a thumbnail a few seconds after they were stored (a lost task)."""
    cutoff = timezone.now() - timedelta(seconds=THUMBNAIL_SWEEP_GRACE_SECONDS)
    return list(
        Attachment.objects.filter(thumbnail="", created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )


def serve_attachment(attachment: Attachment, *, thumbnail: bool) -> FileResponse:
    """The stored photo (or its thumbnail, the photo itself until that exists) for a view that has
    already checked who may see it. Private caching only; the type is the one we stored."""
    use_thumbnail = thumbnail and bool(attachment.thumbnail)
    stored = attachment.thumbnail if use_thumbnail else attachment.file
    response = FileResponse(stored.open("rb"), content_type="image/jpeg" if use_thumbnail else attachment.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response
