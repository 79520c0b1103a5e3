"""The callback state machine: the one table of which status may follow which.

    scheduled ──dispatch──▶ due ──start──▶ in_progress ──reached──▶ completed
        ▲  │                 │                 │  ├──no answer, attempts left──▶ scheduled (retry)
        │  │                 │                 │  ├──no answer, last attempt / wrong number──▶ missed
        │  └──cancel──▶ cancelled ◀──cancel────┘  └──shopper asked to reschedule──▶ scheduled
        └──────── reschedule (from scheduled or due) ─┘

completed, missed and cancelled are final: a missed shopper books a new callback.
"""

from callbacks.models import CallbackStatus as S


class InvalidCallbackTransition(Exception):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"A callback cannot go from {current!r} to {target!r}.")
        self.current = current
        self.target = target


TRANSITIONS: dict[str, frozenset[str]] = {
    S.SCHEDULED: frozenset({S.SCHEDULED, S.DUE, S.IN_PROGRESS, S.CANCELLED}),
    S.DUE: frozenset({S.SCHEDULED, S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.SCHEDULED, S.COMPLETED, S.MISSED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.MISSED: frozenset(),
    S.CANCELLED: frozenset(),
}

FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidCallbackTransition(current, target)
