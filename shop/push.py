"""Ticket changes told to the shopper's open page: a hint to the ticket's own group, nothing more.

The hint carries no content (the page re-reads its fragment, which shows only public messages),
so a hint for an internal note tells the shopper's page nothing but "re-read".
"""

from collections.abc import Iterable
from typing import Any

from console.push import HINT_TYPE, send_hint


def shopper_group(ticket_id: int) -> str:
    return f"shopper.ticket.{ticket_id}"


def push_to_shopper_pages(
    sender: object, *, ticket_id: int, status: str, kind: str, ticket_ids: Iterable[int] | None = None, **extra: Any
) -> None:
    """Receiver of tickets.events.ticket_changed (sent after commit); never raises."""
    for changed_id in ticket_ids or [ticket_id]:
        send_hint([shopper_group(changed_id)], {"type": HINT_TYPE, "ticket_id": changed_id, "kind": kind})
