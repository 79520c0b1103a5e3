"""From a new ticket to its place in a specialist queue."""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from classification.services import classify_ticket
from cxconsole.celery import app as celery_app
from routing.models import RoutingDecision
from teams.models import SpecialistQueue
from teams.taxonomy import TRIAGE_QUEUE_SLUG
from tickets.models import Ticket, TicketStatus
from tickets.services import enqueue_routing, set_status

logger = logging.getLogger(__name__)

UNROUTED_SWEEP_BATCH = 500
DISPATCH_TASK = "routing.dispatch_queue"
ASSIGN_TASK = "routing.assign_ticket"


def triage_queue() -> SpecialistQueue:
    queue, _ = SpecialistQueue.objects.get_or_create(
        slug=TRIAGE_QUEUE_SLUG,
        defaults={"name": "General triage", "name_zh": "综合分诊", "kind": SpecialistQueue.Kind.TRIAGE},
    )
    return queue


def enqueue_dispatch(queue: SpecialistQueue) -> None:
    """After commit, run dispatch_queue on the queue's own Celery queue (assign.<slug>).

    A lost publish is repaired by the periodic sweep, which dispatches every queue with waiting work.
    """

    def publish() -> None:
        try:
            celery_app.signature(DISPATCH_TASK, args=[queue.id], queue=queue.celery_queue).apply_async()
        except Exception:
            logger.warning("Could not enqueue dispatch for queue %s; the sweep will retry.", queue.slug, exc_info=True)

    transaction.on_commit(publish)


def enqueue_assignment(ticket: Ticket, queue: SpecialistQueue) -> None:
    """After commit, run assign_ticket for a freshly routed ticket on its queue's Celery queue."""

    def publish() -> None:
        try:
            celery_app.signature(ASSIGN_TASK, args=[ticket.id], queue=queue.celery_queue).apply_async()
        except Exception:
            logger.warning("Could not enqueue assignment of ticket %s; the sweep will retry.", ticket.id, exc_info=True)

    transaction.on_commit(publish)


def route_ticket(*, ticket_id: int) -> Ticket | None:
    """Classify a new ticket, choose its queue and put it in line; then dispatch that queue.

    Idempotent: only a "new" ticket moves. A ticket whose signals demand a person is handed
    off (top priority, handoff time recorded). Called by the routing.route_ticket task.
    """
    started = time.perf_counter()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
        if ticket is None or ticket.status != TicketStatus.NEW:
            return ticket
        result = classify_ticket(ticket)
        category_queue = ticket.category.queue if ticket.category is not None else None
        queue = category_queue or triage_queue()
        ticket.queue = queue
        changed = set_status(ticket, TicketStatus.QUEUED)
        if result.demands_a_person:
            ticket.priority = Ticket.PRIORITY_TOP
            ticket.handoff_requested_at = ticket.handoff_requested_at or timezone.now()
        ticket.save(
            update_fields=[
                *changed,
                "category",
                "queue",
                "intent",
                "signals",
                "priority",
                "needs_category",
                "handoff_requested_at",
            ]
        )
        RoutingDecision.objects.create(
            ticket=ticket,
            kind=RoutingDecision.Kind.HANDOFF if result.demands_a_person else RoutingDecision.Kind.ROUTE,
            queue=queue,
            reason=(
                f"{result.method} says {result.category} ({result.confidence:.2f})"
                + (" — unsure, to triage" if result.needs_category else "")
                + (f"; signals: {', '.join(result.signals)}" if result.signals else "")
            )[:300],
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        enqueue_assignment(ticket, queue)
    return ticket


def requeue_unrouted_tickets(*, batch_size: int = UNROUTED_SWEEP_BATCH, grace_seconds: int | None = None) -> list[int]:
    """Re-enqueue routing for tickets still "new" past the grace period (a lost enqueue).

    Safe to run twice at once: route_ticket only moves "new" tickets, so a duplicate
    enqueue is harmless. Bounded by batch_size, oldest first.
    """
    if grace_seconds is None:
        grace_seconds = settings.UNROUTED_TICKET_GRACE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    ids = list(
        Ticket.objects.filter(status=TicketStatus.NEW, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:batch_size]
    )
    requeued = [ticket_id for ticket_id in ids if enqueue_routing(ticket_id)]
    if requeued:
        logger.info("Re-enqueued routing for %d unrouted tickets.", len(requeued))
    return requeued
