"""After-sales tasks: thin, named, idempotent; each calls one service."""

import time

from celery import shared_task

from aftersales import services
from core.kicks import claim, kick


@shared_task(name="aftersales.execute_due")
def execute_due() -> int:
    """Kicked after every approval commits: claim approved requests in batches and pay each
    through the order system, until none is left (bounded: a long burst re-kicks itself, so
    the worker's other tasks get their turn). Safe with several runs at once (SKIP LOCKED).

    A worker's run first waits EXECUTION_GATHER_SECONDS with its kick still pending, so approvals
    committed meanwhile join its batch instead of each paying a run's fixed cost (a wait in the
    task, not a Celery countdown: Redis redelivers delayed tasks)."""
    if not execute_due.request.is_eager:
        time.sleep(services.EXECUTION_GATHER_SECONDS)
    claim(services.EXECUTE_KICK_KEY)  # work committed from now on kicks a new run
    done = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        statuses = services.execute_due_requests()
        done += len(statuses)
        if len(statuses) < services.EXECUTION_BATCH:
            return done
    kick(services.EXECUTE_TASK, key=services.EXECUTE_KICK_KEY, queue=services.EXECUTION_QUEUE)
    return done


MAX_BATCHES_PER_RUN = 10


@shared_task(name="aftersales.execute_request")
def execute_request(request_id: int) -> str:
    """Pay (refund, reship, coupon) one approved request through the order system. Safe to run
    twice: the row lock and the state machine let one run call the order system, and its
    idempotency key makes any second call pay nothing."""
    return services.execute_request(request_id=request_id)


@shared_task(name="aftersales.recover_requests")
def recover_requests() -> int:
    """Beat, every 10 s: approved requests whose kick was lost and executing ones whose worker
    died get an execution run."""
    ids = services.requests_to_recover()
    if ids:
        kick(services.EXECUTE_TASK, key=services.EXECUTE_KICK_KEY, queue=services.EXECUTION_QUEUE)
    return len(ids)


@shared_task(name="aftersales.sweep_overdue_returns")
def sweep_overdue_returns() -> int:
    """Beat, every 5 minutes: approved returns whose parcel is past its window go to a specialist,
    in batches (bounded per run; the next run takes the rest). Safe to run twice at once."""
    moved = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        count = services.sweep_overdue_returns(batch=services.OVERDUE_RETURNS_BATCH)
        moved += count
        if count < services.OVERDUE_RETURNS_BATCH:
            break
    return moved
