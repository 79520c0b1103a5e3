"""The after-sales request state machine: the one place that says which status may follow which.

    requested ──policy──▶ auto_approved ──────────────────────────────────┐
        │  └──policy (a return first)──▶ awaiting_return ──parcel──▶ return_received
        │                                    ▲          │                  │
        └──policy──▶ pending_review ──agent──┴─▶ approved ──────────────▶ executing ──▶ done
                        │    │                    ▲    ▲                   │
                        │    └─above limit──▶ pending_supervisor           │
                        │                         │    │                   ▼
                        └──────deny──────▶ denied ◀────┴──────────────── failed (retry: back to approved)

Return and refund and exchange (KINDS_WITH_RETURN, once shipped) are approved into
awaiting_return: nothing is paid or reshipped until the storefront (or an agent) reports the
returned parcel (return_received). Past its return window (return_due_at) the sweep sends it to
a specialist (pending_review, rule "return_overdue"), who gives it longer (awaiting_return again),
denies it, or sees it paid when the late parcel is reported after all (→ return_received). Execution
claims auto_approved, approved and return_received requests; a failed one is retried (→ approved,
the same idempotency key) or denied. done and denied are final.
"""

from aftersales.models import RequestStatus as S
from core.errors import ConflictError


class InvalidRequestTransition(ConflictError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"This after-sales request is {current}; it cannot become {target}.")
        self.current = current
        self.target = target


TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.AUTO_APPROVED, S.AWAITING_RETURN, S.PENDING_REVIEW}),
    S.AUTO_APPROVED: frozenset({S.EXECUTING}),
    # → return_received: the parcel of an overdue return (see below) arrived after all.
    S.PENDING_REVIEW: frozenset({S.APPROVED, S.AWAITING_RETURN, S.PENDING_SUPERVISOR, S.DENIED, S.RETURN_RECEIVED}),
    S.PENDING_SUPERVISOR: frozenset({S.APPROVED, S.AWAITING_RETURN, S.DENIED}),
    S.AWAITING_RETURN: frozenset({S.RETURN_RECEIVED, S.DENIED, S.PENDING_REVIEW}),
    S.RETURN_RECEIVED: frozenset({S.EXECUTING}),
    S.APPROVED: frozenset({S.EXECUTING}),
    S.EXECUTING: frozenset({S.DONE, S.FAILED}),
    S.FAILED: frozenset({S.APPROVED, S.DENIED}),
    S.DONE: frozenset(),
    S.DENIED: frozenset(),
}

# Waiting for a person's decision (the specialist's, or a supervisor's second approval).
AWAITING_DECISION = frozenset({S.PENDING_REVIEW, S.PENDING_SUPERVISOR})
# A person still has to settle these (decide it, or retry a failed payment): their ticket must not
# close at the shopper's word while one waits (aftersales.services.why_ticket_stays_open).
NEEDS_A_PERSON = frozenset({S.REQUESTED, *AWAITING_DECISION, S.FAILED})
# Approved and not yet paid: the execution task takes these.
TO_EXECUTE = frozenset({S.AUTO_APPROVED, S.APPROVED, S.RETURN_RECEIVED})
# A person may deny these (a failed execution; a returned parcel that never arrived).
DENIABLE = frozenset({*AWAITING_DECISION, S.FAILED, S.AWAITING_RETURN})
# Still claiming its items (a denied request releases them).
HOLDS_ITEMS = frozenset(set(S.values) - {S.DENIED})


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidRequestTransition(current, target)
