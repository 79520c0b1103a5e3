"""From new tickets to their places in specialist queues, a batch at a time."""

import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from classification.services import classify_tickets, get_model
from core.bulk import insert_statements, select_rows, update_statements, write
from core.kicks import Kick, claim, kick_all
from routing.models import RoutingDecision
from routing.services.assignment import DISPATCH_LIMIT, dispatch_queue
from teams.models import SpecialistQueue
from teams.selectors import queue_by_id
from teams.taxonomy import TRIAGE_QUEUE_SLUG
from tickets.events import notify_tickets_changed
from tickets.models import Ticket, TicketStatus
from tickets.services import ROUTE_KICK, enqueue_routing, set_status

logger = logging.getLogger(__name__)

# New tickets classified and placed per transaction.
ROUTE_BATCH = 100
# A routing or dispatch run hands over to a fresh task after this long (other queues' tasks get
# the worker in between; the kick is re-sent so no work is left behind).
DRAIN_SECONDS = 2.0
DISPATCH_TASK = "routing.dispatch_queue"
ROUTE_FIELDS = [
    "status",
    "queued_at",
    "updated_at",
    "category",
    "queue",
    "intent",
    "signals",
    "priority",
    "needs_category",
    "handoff_requested_at",
]


def triage_queue() -> SpecialistQueue:
    queue, _ = SpecialistQueue.objects.get_or_create(
        slug=TRIAGE_QUEUE_SLUG,
        defaults={"name": "General triage", "name_zh": "综合分诊", "kind": SpecialistQueue.Kind.TRIAGE},
    )
    return queue


def dispatch_kick_key(queue_id: int) -> str:
    return f"dispatch:{queue_id}"


def enqueue_dispatch(*queues: SpecialistQueue) -> None:
    """After commit, make sure a dispatch_queue run on each queue's own Celery queue
    (assign.<slug>) will serve its line: coalesced kicks, so a burst of changes costs one run per
    queue, not one each, and the queues of one batch are kicked together (two round trips).

    A lost publish is repaired by the periodic sweep, which kicks every queue with waiting work.
    """
    kicks = [Kick(DISPATCH_TASK, dispatch_kick_key(q.id), (q.id,), q.celery_queue) for q in queues]
    if kicks:
        transaction.on_commit(lambda: kick_all(kicks))


def route_ticket(*, ticket_id: int) -> Ticket | None:
    """Route one ticket now (a handoff does not wait for the routing worker). Idempotent: only a
    "new" ticket moves; waits for a routing run that holds it."""
    with transaction.atomic():
        tickets = list(Ticket.objects.select_for_update(of=("self",)).filter(pk=ticket_id, status=TicketStatus.NEW))
        _route_locked(tickets)
    return Ticket.objects.filter(pk=ticket_id).first()


def route_new_tickets(*, batch_size: int = ROUTE_BATCH) -> int:
    """Classify up to batch_size "new" tickets, oldest first, and put each in line in its queue,
    in one transaction; then kick the dispatch of every queue that gained work. Returns how many.

    Racing callers take different tickets (SKIP LOCKED). A ticket whose signals demand a person is
    handed off: top priority, handoff time recorded.
    """
    # A fresh worker process reads the classifier (seconds) here, before any row is locked, never
    # while it holds a batch of new tickets (handoffs among them) that other workers skip.
    get_model()
    with transaction.atomic():
        tickets = select_rows(
            Ticket,
            where="{status} = %s",
            params=[TicketStatus.NEW],
            order_by="{id}",
            limit=batch_size,
            skip_locked=True,
        )
        _route_locked(tickets)
    return len(tickets)


def drain_new_tickets(*, budget_seconds: float = DRAIN_SECONDS) -> int:
    """The routing task: route new tickets, batch after batch, until none is left or the budget
    is spent (then it kicks a successor). Returns how many it routed."""
    claim(ROUTE_KICK)
    deadline = time.monotonic() + budget_seconds
    routed = 0
    while True:
        count = route_new_tickets()
        routed += count
        if count < ROUTE_BATCH:
            return routed
        if time.monotonic() > deadline:
            enqueue_routing()
            return routed


def drain_queue(*, queue_id: int) -> int:
    """The dispatch task: serve a queue's line; a run that reached its limit kicks a successor
    (other queues' runs get the worker in between). Returns how many it assigned."""
    claim(dispatch_kick_key(queue_id))
    assigned = dispatch_queue(queue_id=queue_id)
    queue = queue_by_id(queue_id)
    if assigned >= DISPATCH_LIMIT and queue is not None:
        enqueue_dispatch(queue)
    return assigned


def _route_locked(tickets: Sequence[Ticket]) -> None:
    """Classify and queue locked "new" tickets; the caller's transaction commits it all."""
    if not tickets:
        return
    started = time.perf_counter()
    results, classified = classify_tickets(tickets)
    now = timezone.now()
    queues: dict[int, SpecialistQueue] = {}
    decisions = []
    triage: SpecialistQueue | None = None
    for ticket, result in zip(tickets, results, strict=True):
        queue = ticket.category.queue if ticket.category is not None else None
        if queue is None:
            triage = triage or triage_queue()
            queue = triage
        ticket.queue = queue
        queues[queue.id] = queue
        set_status(ticket, TicketStatus.QUEUED, at=now, announce=False)
        ticket.updated_at = now
        if result.demands_a_person:
            ticket.priority = Ticket.PRIORITY_TOP
            ticket.handoff_requested_at = ticket.handoff_requested_at or now
        decisions.append(
            RoutingDecision(
                ticket=ticket,
                kind=RoutingDecision.Kind.HANDOFF if result.demands_a_person else RoutingDecision.Kind.ROUTE,
                queue=queue,
                reason=(
                    f"{result.method} says {result.category} ({result.confidence:.2f})"
                    + (" — unsure, to triage" if result.needs_category else "")
                    + (f"; signals: {', '.join(result.signals)}" if result.signals else "")
                )[:300],
                created_at=now,
            )
        )
    latency_ms = (time.perf_counter() - started) * 1000 / len(tickets)
    for decision in decisions:
        decision.latency_ms = latency_ms
    write(classified, update_statements(tickets, ROUTE_FIELDS), insert_statements(decisions))
    notify_tickets_changed(tickets, kind="status")
    enqueue_dispatch(*queues.values())
    handoffs = Counter(t.queue.id for t, r in zip(tickets, results, strict=True) if r.demands_a_person and t.queue)
    for queue_id, count in handoffs.items():
        # The handoff path: a person at once, from this run, not after a hop behind other
        # queues' dispatch runs (the shopper's own handoff request does the same inline).
        transaction.on_commit(partial(dispatch_queue, queue_id=queue_id, limit=count))


def requeue_unrouted_tickets(*, grace_seconds: int | None = None) -> int:
    """Kick routing when tickets have stayed "new" past the grace period (a lost kick or task).

    Returns how many tickets are overdue. Safe to run twice at once: routing takes each new
    ticket once (SKIP LOCKED) and only moves "new" tickets.
    """
    if grace_seconds is None:
        grace_seconds = settings.UNROUTED_TICKET_GRACE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    overdue = Ticket.objects.filter(status=TicketStatus.NEW, created_at__lt=cutoff).count()
    if overdue:
        logger.info("%d tickets still new past %ss: kicking routing.", overdue, grace_seconds)
        enqueue_routing()
    return overdue
