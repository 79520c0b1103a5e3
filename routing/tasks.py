"""Thin routing tasks: take ids, re-read state, call one service. Safe to run twice."""

from celery import shared_task

from routing import services


@shared_task(name="routing.route_ticket")
def route_ticket(ticket_id: int) -> None:
    services.route_ticket(ticket_id=ticket_id)


@shared_task(name="routing.assign_ticket")
def assign_ticket(ticket_id: int) -> bool:
    """Runs on the Celery queue of the ticket's specialist queue (assign.<slug>)."""
    return services.assign_ticket(ticket_id=ticket_id)


@shared_task(name="routing.dispatch_queue")
def dispatch_queue(queue_id: int) -> int:
    """Runs on the Celery queue of its specialist queue (assign.<slug>), chosen at publish time."""
    return services.dispatch_queue(queue_id=queue_id)


@shared_task(name="routing.sweep_unrouted_tickets")
def sweep_unrouted_tickets() -> int:
    return len(services.requeue_unrouted_tickets())


@shared_task(name="routing.sweep_waiting_tickets")
def sweep_waiting_tickets() -> dict[str, int]:
    return services.sweep_waiting_tickets()
