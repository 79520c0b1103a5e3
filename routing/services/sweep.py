"""The periodic sweep of waiting tickets: overflow, SLA flags, and a dispatch of every queue."""

from datetime import timedelta

from django.utils import timezone

from routing.models import RoutingDecision
from routing.services.intake import enqueue_dispatch
from teams.models import SpecialistQueue
from tickets.models import Ticket, TicketStatus

SWEEP_BATCH = 1000


def sweep_waiting_tickets(*, batch_size: int = SWEEP_BATCH) -> dict[str, int]:
    """Widen eligibility for tickets waiting past their queue's overflow time (secondary-skill
    agents first; past twice that time, the queue's secondary queue), flag tickets past the
    service-level target, and dispatch every queue that has waiting work.

    Each step is one bounded conditional UPDATE, so two sweeps at once do no harm.
    """
    now = timezone.now()
    counts = {"overflowed": 0, "moved": 0, "sla_breached": 0, "dispatched": 0}
    for queue in SpecialistQueue.objects.all():
        waiting = Ticket.objects.filter(queue=queue, status=TicketStatus.QUEUED)
        overflow_at = now - timedelta(seconds=queue.overflow_seconds)
        ids = list(
            waiting.filter(overflowed=False, queued_at__lte=overflow_at).values_list("id", flat=True)[:batch_size]
        )
        counts["overflowed"] += Ticket.objects.filter(id__in=ids, overflowed=False).update(overflowed=True)
        if queue.secondary_queue_id:
            move_at = now - timedelta(seconds=2 * queue.overflow_seconds)
            ids = list(waiting.filter(queued_at__lte=move_at).values_list("id", flat=True)[:batch_size])
            moved = Ticket.objects.filter(id__in=ids, queue=queue, status=TicketStatus.QUEUED).update(
                queue_id=queue.secondary_queue_id
            )
            if moved:
                counts["moved"] += moved
                RoutingDecision.objects.bulk_create(
                    RoutingDecision(
                        ticket_id=i,
                        kind=RoutingDecision.Kind.OVERFLOW,
                        queue_id=queue.secondary_queue_id,
                        reason=f"waited past 2×{queue.overflow_seconds}s in {queue.slug}",
                    )
                    for i in ids
                )
        sla_at = now - timedelta(seconds=queue.service_level_seconds)
        ids = list(waiting.filter(sla_breached=False, queued_at__lte=sla_at).values_list("id", flat=True)[:batch_size])
        counts["sla_breached"] += Ticket.objects.filter(id__in=ids).update(sla_breached=True)
    waiting_queues = list(SpecialistQueue.objects.filter(tickets__status=TicketStatus.QUEUED).distinct())
    enqueue_dispatch(*waiting_queues)
    counts["dispatched"] += len(waiting_queues)
    return counts
