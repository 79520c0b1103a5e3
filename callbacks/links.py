"""Signed links for the shopper: a callback id signed with a timestamp (django.core.signing).

The link carries no secret state: anyone holding it may see, confirm, reschedule or cancel that
one callback, until it expires (CALLBACK_LINK_MAX_AGE_DAYS) — like the tracking token, it is sent
only to the shopper's own phone and email.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "callbacks.shopper-link"


class LinkInvalid(Exception):
    """Tampered with, truncated or signed with another key."""


class LinkExpired(Exception):
    """Genuine, but older than the allowed age."""


def make_link_token(callback_id: int) -> str:
    return signing.dumps({"c": callback_id}, salt=SALT)


def read_link_token(token: str) -> int:
    """The callback id in a link token; raises LinkExpired or LinkInvalid."""
    max_age = settings.CALLBACK_LINK_MAX_AGE_DAYS * 24 * 3600
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from exc
    except signing.BadSignature as exc:
        raise LinkInvalid(str(exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise LinkInvalid("unexpected payload")
    return int(data["c"])


def shopper_link(callback_id: int) -> str:
    """The absolute URL of the shopper's page for this callback (PUBLIC_BASE_URL + path)."""
    path = reverse("callbacks:shopper_page", args=[make_link_token(callback_id)])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path
