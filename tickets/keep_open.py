"""Why an inquiry must stay open when its shopper withdraws it, as the apps that know say.

routing.cancel_inquiry closes a waiting inquiry at the shopper's word. Some work on the ticket
belongs to an app above routing and still needs a person — an after-sales request waiting for a
specialist's decision: closing would leave it undecided for good (a closed ticket is in no queue).
Such an app registers a check here in its AppConfig.ready(); routing asks without importing it.
"""

from collections.abc import Callable

# ticket id -> the reason to keep it open (in the active language, for the shopper), or "".
KeepOpenCheck = Callable[[int], str]

_checks: dict[str, KeepOpenCheck] = {}


def register_keep_open(name: str, check: KeepOpenCheck) -> None:
    """Register a check under name (registering the name again replaces it)."""
    _checks[name] = check


def reason_to_keep_open(ticket_id: int) -> str:
    """The first reason a registered check gives for keeping this ticket open, else "". The
    caller holds the ticket's row lock when it acts on the answer (a writer that adds such work
    locks the ticket too, so the answer cannot go stale before the caller commits)."""
    for check in _checks.values():
        reason = check(ticket_id)
        if reason:
            return reason
    return ""
