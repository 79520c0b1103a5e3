"""Proactive tasks: thin, named, idempotent; each calls one service."""

from celery import shared_task
from django.conf import settings

from core.kicks import claim, kick
from proactive import services

SWEEP_TASK = "proactive.sweep"
SWEEP_KICK = "proactive-sweep"


@shared_task(name=SWEEP_TASK)
def sweep() -> int:
    """Beat, every minute: open a case for each new anomaly. Bounded by a time budget; when
    candidates are left, a successor is kicked (coalesced). Safe to run twice at once."""
    claim(SWEEP_KICK)
    result = services.sweep(budget_seconds=settings.PROACTIVE_SWEEP_BUDGET_SECONDS)
    if not result.exhausted:
        kick(SWEEP_TASK, key=SWEEP_KICK)
    return result.total


@shared_task(name="proactive.prune")
def prune() -> int:
    """Beat, hourly: finished orders and old events, in capped batches."""
    result = services.prune()
    return result.orders + result.events
