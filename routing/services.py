"""Routing: put each ticket in the right specialist queue and give it to the right agent."""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from routing.models import RoutingDecision
from teams.models import Category, SpecialistQueue
from teams.taxonomy import TRIAGE_QUEUE_SLUG
from tickets.models import Ticket, TicketStatus
from tickets.services import enqueue_routing, set_status

logger = logging.getLogger(__name__)


UNROUTED_SWEEP_BATCH = 500


def triage_queue() -> SpecialistQueue:
    queue, _ = SpecialistQueue.objects.get_or_create(
        slug=TRIAGE_QUEUE_SLUG,
        defaults={"name": "General triage", "kind": SpecialistQueue.Kind.TRIAGE},
    )
    return queue


def queue_for_category(category: Category | None) -> SpecialistQueue:
    if category is not None and category.queue_id is not None:
        return category.queue  # type: ignore[return-value]
    return triage_queue()


def route_ticket(*, ticket_id: int) -> Ticket | None:
    """Choose the queue of a new ticket and put it in line. Idempotent: only "new" tickets move.

    Called by the routing.route_ticket task after intake commits.
    """
    started = time.perf_counter()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
        if ticket is None or ticket.status != TicketStatus.NEW:
            return ticket
        category = None
        if ticket.order_product_category:
            category = Category.objects.filter(slug=ticket.order_product_category).select_related("queue").first()
        queue = queue_for_category(category)
        ticket.category = category
        ticket.queue = queue
        changed = set_status(ticket, TicketStatus.QUEUED)
        ticket.save(update_fields=[*changed, "category", "queue"])
        RoutingDecision.objects.create(
            ticket=ticket,
            kind=RoutingDecision.Kind.ROUTE,
            queue=queue,
            reason=f"category {category.slug if category else 'unknown'} → {queue.slug}",
            latency_ms=(time.perf_counter() - started) * 1000,
        )
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
