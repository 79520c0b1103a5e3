"""The periodic sweep of waiting tickets: overflow, SLA flags, and a dispatch of every queue."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.events import emit_many
from routing.models import Offer, RoutingDecision
from routing.services.intake import enqueue_dispatch
from teams.models import SpecialistQueue
from tickets.domain_events import ticket_event
from tickets.models import Ticket, TicketStatus

SWEEP_BATCH = 1000


def _in_queue_since_before(waiting: QuerySet[Ticket], cutoff: datetime) -> QuerySet[Ticket]:
    """Tickets that entered this queue before cutoff: a ticket moved here (queue_entered_at) starts
    this queue's overflow clock afresh; one first queued here keeps queued_at."""
    return waiting.filter(Q(queue_entered_at__lte=cutoff) | Q(queue_entered_at__isnull=True, queued_at__lte=cutoff))


def sweep_waiting_tickets(*, batch_size: int = SWEEP_BATCH) -> dict[str, int]:
    """Widen eligibility for tickets waiting past their queue's overflow time (secondary-skill
    agents first; past twice that time, the queue's secondary queue), flag tickets past the
    service-level target, and dispatch every queue that has waiting work.

    Bounded steps, safe when two sweeps run at once: flags are conditional UPDATEs, and a move locks
    the tickets it takes (SKIP LOCKED), so each moved ticket gets exactly one OVERFLOW decision and
    moves one hop per sweep (its new queue's clock starts at the move).
    """
    now = timezone.now()
    counts = {"overflowed": 0, "moved": 0, "sla_breached": 0, "dispatched": 0}
    for queue in SpecialistQueue.objects.all():
        waiting = Ticket.objects.filter(queue=queue, status=TicketStatus.QUEUED)
        overflow_at = now - timedelta(seconds=queue.overflow_seconds)
        ids = list(
            _in_queue_since_before(waiting.filter(overflowed=False), overflow_at).values_list("id", flat=True)[
                :batch_size
            ]
        )
        counts["overflowed"] += Ticket.objects.filter(id__in=ids, overflowed=False).update(overflowed=True)
        if queue.secondary_queue_id:
            counts["moved"] += _move_to_secondary(queue, waiting, now=now, batch_size=batch_size)
        sla_at = now - timedelta(seconds=queue.service_level_seconds)
        ids = list(waiting.filter(sla_breached=False, queued_at__lte=sla_at).values_list("id", flat=True)[:batch_size])
        counts["sla_breached"] += Ticket.objects.filter(id__in=ids).update(sla_breached=True)
    waiting_queues = list(SpecialistQueue.objects.filter(tickets__status=TicketStatus.QUEUED).distinct())
    enqueue_dispatch(*waiting_queues)
    counts["dispatched"] += len(waiting_queues)
    return counts


def _move_to_secondary(queue: SpecialistQueue, waiting: QuerySet[Ticket], *, now: datetime, batch_size: int) -> int:
    """Move tickets waiting past twice the overflow time to the secondary queue; returns how many."""
    move_at = now - timedelta(seconds=2 * queue.overflow_seconds)
    with transaction.atomic():
        # Locked, so a dispatch assigning one of them meanwhile (it locks too) and a second sweep
        # skip each other: only tickets this sweep really moves get a decision.
        movable = _in_queue_since_before(waiting, move_at)
        if queue.may_offer:  # a ticket on offer stays for its agent's answer
            movable = movable.exclude(Exists(Offer.objects.filter(ticket_id=OuterRef("pk"), state=Offer.State.PENDING)))
        ids = list(
            movable.select_for_update(skip_locked=True, of=("self",))
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return 0
        Ticket.objects.filter(id__in=ids).update(
            queue_id=queue.secondary_queue_id, queue_entered_at=now, overflowed=False
        )
        # Read back after the move: the events carry the state the storefront should see.
        moved = list(Ticket.objects.filter(id__in=ids).order_by("id"))
        emit_many([ticket_event("ticket.queued", t, reason="overflow", from_queue=queue.slug) for t in moved])
        RoutingDecision.objects.bulk_create(
            RoutingDecision(
                ticket_id=i,
                kind=RoutingDecision.Kind.OVERFLOW,
                queue_id=queue.secondary_queue_id,
                reason=f"waited past 2×{queue.overflow_seconds}s in {queue.slug}",
            )
            for i in ids
        )
    return len(ids)
