"""The ticket state machine: the one place that says which status may follow which.

    new ──route──▶ queued ──assign──▶ assigned ──agent reply──▶ waiting_on_shopper
     │               ▲  ▲                │  ▲                        │
     │               │  └──unassign──────┘  └──shopper message───────┘
     │               │     (agent offline, transfer to a queue)
     │               └──────────── reopen (former agent unavailable) ─┐
     │                                   │                            │
     │                          assigned/waiting ──resolve──▶ resolved ──close──▶ closed
     └──cancel / abandon (before any assignment) ─────────────────────────────────▶ closed

A shopper message on a resolved ticket reopens it (to its former agent or back to the queue).
"""

from django.utils.translation import gettext_lazy as _

from core.errors import ConflictError
from tickets.models import TicketStatus as S


class InvalidTransition(ConflictError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(
            _("A ticket cannot go from %(current)s to %(target)s.")
            % {"current": _label(current), "target": _label(target)}
        )
        self.current = current
        self.target = target


def _label(status: str) -> str:
    return str(S(status).label) if status in S.values else status


TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.QUEUED, S.ASSIGNED, S.CLOSED}),
    S.QUEUED: frozenset({S.QUEUED, S.ASSIGNED, S.CLOSED}),
    S.ASSIGNED: frozenset({S.QUEUED, S.ASSIGNED, S.WAITING_ON_SHOPPER, S.RESOLVED}),
    S.WAITING_ON_SHOPPER: frozenset({S.ASSIGNED, S.QUEUED, S.RESOLVED}),
    S.RESOLVED: frozenset({S.ASSIGNED, S.QUEUED, S.CLOSED}),
    S.CLOSED: frozenset(),
}

# Statuses in which the ticket holds a slot of its agent's capacity.
HOLDS_AGENT = frozenset({S.ASSIGNED, S.WAITING_ON_SHOPPER})
OPEN = frozenset({S.NEW, S.QUEUED, S.ASSIGNED, S.WAITING_ON_SHOPPER})


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(current, target)
