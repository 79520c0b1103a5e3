"""Thin routing tasks: re-read state from the database, call one service. Safe to run twice.

Writers do not publish these per ticket: they kick them (core.kicks), so one run drains
whatever has piled up since the last one.
"""

from celery import shared_task

from routing import services


@shared_task(name="routing.route_new_tickets")
def route_new_tickets() -> int:
    return services.drain_new_tickets()


@shared_task(name="routing.dispatch_queue")
def dispatch_queue(queue_id: int) -> int:
    """Runs on the Celery queue of its specialist queue (assign.<slug>), chosen at publish time."""
    return services.drain_queue(queue_id=queue_id)


@shared_task(name="routing.sweep_unrouted_tickets")
def sweep_unrouted_tickets() -> int:
    return services.requeue_unrouted_tickets()


@shared_task(name="routing.sweep_waiting_tickets")
def sweep_waiting_tickets() -> dict[str, int]:
    return services.sweep_waiting_tickets()


@shared_task(name="routing.close_resolved_tickets")
def close_resolved_tickets() -> int:
    """One capped batch; a full batch queues the next run at once."""
    closed = services.close_resolved_tickets()
    if closed >= services.work.AUTO_CLOSE_BATCH:
        close_resolved_tickets.delay()
    return closed


@shared_task(name="routing.sweep_absent_agents")
def sweep_absent_agents() -> dict[str, int]:
    return services.sweep_absent_agents()


@shared_task(name="routing.expire_offers")
def expire_offers() -> int:
    """One bounded batch of offers past their deadline; a full batch queues the next run at once."""
    expired = services.expire_offers()
    if expired >= services.offers.EXPIRE_BATCH:
        expire_offers.delay()
    return expired
