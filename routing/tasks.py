"""Thin routing tasks: take ids, re-read state, call one service. Safe to run twice."""

from celery import shared_task

from routing import services


@shared_task(name="routing.route_ticket")
def route_ticket(ticket_id: int) -> None:
    services.route_ticket(ticket_id=ticket_id)


@shared_task(name="routing.sweep_unrouted_tickets")
def sweep_unrouted_tickets() -> int:
    return len(services.requeue_unrouted_tickets())
