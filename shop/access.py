"""Which inquiries this browser may see: a list of ticket ids in its session.

The list is filled when the shopper opens an inquiry on the page or follows a signed access link
(tickets.links); nothing else grants access, and every shopper view and the websocket check it.
"""

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

SESSION_KEY = "shop.tickets"
SHOPPER_KEY = "shop.shopper"
# A browser remembers this many inquiries (the oldest are forgotten first).
MAX_TICKETS = 50


def granted_ids(session: SessionBase) -> list[int]:
    value = session.get(SESSION_KEY, [])
    return [int(v) for v in value if isinstance(v, int)] if isinstance(value, list) else []


def may_see(request: HttpRequest, ticket_id: int) -> bool:
    return ticket_id in granted_ids(request.session)


def grant(request: HttpRequest, ticket_id: int) -> None:
    """Let this browser see the ticket. A new session key is issued, so a session id planted
    before (session fixation) is worthless afterwards."""
    ids = [i for i in granted_ids(request.session) if i != ticket_id] + [ticket_id]
    request.session.cycle_key()
    request.session[SESSION_KEY] = ids[-MAX_TICKETS:]
