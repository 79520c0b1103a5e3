"""Signed, expiring links that let a shopper into their inquiry's page without an account.

The shopper page (`/shop/access/<token>/`) exchanges the token for a session at once and
redirects, so the token never stays in a URL that gets logged afterwards. Notifications (agent
replies, resolution with the satisfaction question) carry such a link. `next` says where the page
should land ("rate": the rating form after a resolution).
"""

from django.conf import settings
from django.core import signing

SALT = "tickets.shopper-access"
NEXT_PAGES = ("", "rate")


class AccessLinkInvalid(Exception):
    """Tampered with, truncated, signed with another key, or not an access link."""


class AccessLinkExpired(Exception):
    """Genuine, but older than SHOPPER_LINK_MAX_AGE_DAYS."""


def make_access_token(ticket_id: int, *, next_page: str = "") -> str:
    if next_page not in NEXT_PAGES:
        raise ValueError(f"unknown next page {next_page!r}")
    return signing.dumps({"t": ticket_id, "n": next_page}, salt=SALT, compress=True)


def read_access_token(token: str) -> tuple[int, str]:
    """(ticket id, next page) from an access token; raises AccessLinkExpired or AccessLinkInvalid."""
    max_age = settings.SHOPPER_LINK_MAX_AGE_DAYS * 24 * 3600
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise AccessLinkExpired(str(exc)) from exc
    except (signing.BadSignature, UnicodeError, ValueError) as exc:
        raise AccessLinkInvalid(str(exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("t"), int) or data.get("n", "") not in NEXT_PAGES:
        raise AccessLinkInvalid("unexpected payload")
    return int(data["t"]), str(data.get("n", ""))


def shopper_page_url(ticket_id: int, *, next_page: str = "") -> str:
    """The absolute link for notifications: PUBLIC_BASE_URL + /shop/access/<token>/."""
    token = make_access_token(ticket_id, next_page=next_page)
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/shop/access/{token}/"
