"""Shopper tracking tokens, derived rather than stored.

A ticket keeps only a random nonce; its token is an HMAC of SECRET_KEY over the ticket id and
that nonce. A copy of the database alone therefore opens no inquiry, yet the token can be shown
again whenever it is needed — an intake retried with the same Idempotency-Key answers with the
first ticket's token. Tokens signed with a key in SECRET_KEY_FALLBACKS still match, so the key
can be rotated; removing the old key ends every token derived from it.

A check compares bytes, so any text a client sends (non-ASCII included) is simply a mismatch,
and a missing ticket costs the same HMAC as a wrong token: neither answer nor timing tells an
outsider which ids exist.
"""

import base64
import hmac
import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

SALT = "tickets.tracking-token"
# The nonce of an id that does not exist: the check still runs one HMAC.
_ABSENT = "absent"


def new_tracking_nonce() -> str:
    return secrets.token_urlsafe(16)


def _derive(ticket_id: int, nonce: str, secret: str) -> str:
    digest = salted_hmac(SALT, f"{ticket_id}:{nonce}", secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def tracking_token(ticket_id: int, nonce: str) -> str:
    """The shopper's token for a ticket, under the current SECRET_KEY."""
    return _derive(ticket_id, nonce, settings.SECRET_KEY)


def token_matches(ticket_id: int | None, nonce: str | None, token: str) -> bool:
    """Whether `token` opens the ticket (None: no such ticket, still compared, always False)."""
    offered = token.encode("utf-8", "surrogatepass")
    exists = ticket_id is not None and nonce is not None
    matched = False
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        expected = _derive(ticket_id or 0, nonce if exists and nonce else _ABSENT, secret).encode("ascii")
        matched |= hmac.compare_digest(expected, offered)
    return exists and matched
