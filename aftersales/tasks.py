"""After-sales tasks: thin, named, idempotent; each calls one service."""

from celery import shared_task

from aftersales import services


@shared_task(name="aftersales.execute_request")
def execute_request(request_id: int) -> str:
    """Pay (refund, reship, coupon) one approved request through the order system. Safe to run
    twice: the row lock and the state machine let one run call the order system, and its
    idempotency key makes any second call pay nothing."""
    return services.execute_request(request_id=request_id)


@shared_task(name="aftersales.recover_requests")
def recover_requests() -> int:
    """Beat, every 10 s: approved requests whose task was lost and executing ones whose worker died."""
    ids = services.requests_to_recover()
    for request_id in ids:
        execute_request.delay(request_id)
    return len(ids)
