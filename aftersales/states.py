"""The after-sales request state machine: the one place that says which status may follow which.

    requested ──policy──▶ auto_approved ─────────────────────────┐
        │                                                        ▼
        └──policy──▶ pending_review ──agent──▶ approved ──▶ executing ──▶ done
                        │    │                    ▲    ▲        │
                        │    └─above limit──▶ pending_supervisor │
                        │                         │    │        ▼
                        └──────deny──────▶ denied ◀────┴───── failed (retry: back to approved)

Execution claims auto_approved and approved requests; a failed one is retried (→ approved, the
same idempotency key) or denied. done and denied are final.
"""

from aftersales.models import RequestStatus as S
from core.errors import ConflictError


class InvalidRequestTransition(ConflictError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"This after-sales request is {current}; it cannot become {target}.")
        self.current = current
        self.target = target


TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.AUTO_APPROVED, S.PENDING_REVIEW}),
    S.AUTO_APPROVED: frozenset({S.EXECUTING}),
    S.PENDING_REVIEW: frozenset({S.APPROVED, S.PENDING_SUPERVISOR, S.DENIED}),
    S.PENDING_SUPERVISOR: frozenset({S.APPROVED, S.DENIED}),
    S.APPROVED: frozenset({S.EXECUTING}),
    S.EXECUTING: frozenset({S.DONE, S.FAILED}),
    S.FAILED: frozenset({S.APPROVED, S.DENIED}),
    S.DONE: frozenset(),
    S.DENIED: frozenset(),
}

# Waiting for a person's decision (the specialist's, or a supervisor's second approval).
AWAITING_DECISION = frozenset({S.PENDING_REVIEW, S.PENDING_SUPERVISOR})
# Approved and not yet paid: the execution task takes these.
TO_EXECUTE = frozenset({S.AUTO_APPROVED, S.APPROVED})
# Still claiming its items (a denied request releases them).
HOLDS_ITEMS = frozenset(set(S.values) - {S.DENIED})


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidRequestTransition(current, target)
