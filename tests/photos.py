"""Photos for tests, made on the fly: a phone's JPEG with its GPS position, PNG, WebP, HEIC."""

import io

import pillow_heif
from PIL import Image


def jpeg_with_location(size: tuple[int, int] = (800, 600), colour: str = "#c0392b") -> bytes:
    """What a phone sends: a JPEG whose EXIF names the camera and where it was (GPS)."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (31.0, 14.0, 0.0)  # Shanghai
    gps[3] = "E"
    gps[4] = (121.0, 28.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), colour: str = "#2e86de") -> bytes:
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    image = Image.new(mode, size, colour)
    out = io.BytesIO()
    if fmt == "HEIF":
        pillow_heif.from_pillow(image).save(out, format="HEIF")
    else:
        image.save(out, fmt)
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return bool(exif.get_ifd(0x8825)) or 0x010F in exif


def noisy_jpeg(size: tuple[int, int] = (400, 400)) -> bytes:
    """A JPEG that does not compress (random pixels): for size limits."""
    import os

    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()
