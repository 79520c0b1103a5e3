"""Money is never paid twice and never silently lost: the order system failing mid-execution
leaves the request failed (visible, retryable with the same key); a lost answer is recovered by
the retry without a second refund; two agents approving at once and a retried task pay once; the
sweep recovers a lost task and a dead worker's request."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from aftersales import services, tasks
from aftersales.models import AfterSalesRequest, DecisionAction, RequestStatus
from aftersales.services import AfterSalesError, ClaimedItem, open_request
from tests.aftersales.conftest import BIG_FRESH_ORDER
from tests.photos import jpeg_with_location
from tickets.attachments import NamedBytes, prepare_images


def crabs(ticket):
    return open_request(
        ticket_id=ticket.id,
        kind="fresh_guarantee",
        items=[ClaimedItem(item_id="1", quantity=1)],
        amount="1288.00",
        fresh_problem="rotten",
        photos=prepare_images([NamedBytes("dead.jpg", jpeg_with_location())]),
    ).request


def approved(ticket, agent) -> AfterSalesRequest:
    request = crabs(ticket)
    services.approve_request(request_id=request.pk, by=agent.user)  # the task is not run: no eager Celery
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    return request


def test_the_order_system_down_during_execution_leaves_it_failed_and_retryable(orders, big_order_ticket, tom):
    request = approved(big_order_ticket, tom)
    orders.fail_status = 503
    assert services.execute_request(request_id=request.pk) == RequestStatus.FAILED
    request.refresh_from_db()
    assert request.status == RequestStatus.FAILED and "503" in request.last_error
    assert not orders.refunds

    orders.fail_status = None
    services.retry_request(request_id=request.pk, by=tom.user)
    assert services.execute_request(request_id=request.pk) == RequestStatus.DONE
    assert len(orders.refunds) == 1
    actions = [d.action for d in request.decisions.all()]
    assert actions[-4:] == [DecisionAction.FAIL, DecisionAction.RETRY, DecisionAction.EXECUTE, DecisionAction.DONE]


def test_an_answer_lost_after_the_money_moved_is_recovered_by_the_retry_without_paying_twice(
    orders, big_order_ticket, tom, settings
):
    settings.ORDER_API_ACTION_TIMEOUT = 0.3
    request = approved(big_order_ticket, tom)
    orders.delay_after_action_seconds = 1.0  # the refund is made, its answer comes too late
    assert services.execute_request(request_id=request.pk) == RequestStatus.FAILED
    assert len(orders.refunds) == 1  # paid, but we could not know

    orders.delay_after_action_seconds = 0
    services.retry_request(request_id=request.pk, by=tom.user)
    assert services.execute_request(request_id=request.pk) == RequestStatus.DONE
    request.refresh_from_db()
    assert len(orders.refunds) == 1
    assert request.result_reference == orders.refunds[0]["refund_id"]
    assert "replayed" in request.decisions.last().detail


def test_a_rejected_action_fails_visibly_never_done(orders, big_order_ticket, tom):
    request = approved(big_order_ticket, tom)
    order = orders._orders[BIG_FRESH_ORDER]
    order["amounts"]["refunded"] = order["amounts"]["paid"]  # refunded elsewhere meanwhile
    assert services.execute_request(request_id=request.pk) == RequestStatus.FAILED
    request.refresh_from_db()
    assert "amount_exceeds_refundable" in request.last_error


def test_a_second_run_of_the_task_does_nothing(orders, big_order_ticket, tom):
    request = approved(big_order_ticket, tom)
    assert tasks.execute_request(request.pk) == RequestStatus.DONE
    assert tasks.execute_request(request.pk) == RequestStatus.DONE
    assert len(orders.refunds) == 1
    with pytest.raises(AfterSalesError):
        services.retry_request(request_id=request.pk, by=tom.user)


def test_the_sweep_recovers_a_lost_task_and_a_dead_workers_request(orders, big_order_ticket, zhaos_ticket, tom):
    lost = approved(big_order_ticket, tom)
    assert services.requests_to_recover() == []  # within the grace period
    later = timezone.now() + timedelta(seconds=10)
    assert services.requests_to_recover(now=later) == [lost.pk]

    # A worker died mid-call: executing, stamped long ago.
    AfterSalesRequest.objects.filter(pk=lost.pk).update(
        status=RequestStatus.EXECUTING, executing_since=timezone.now() - timedelta(minutes=5)
    )
    assert services.requests_to_recover() == [lost.pk]
    assert services.execute_request(request_id=lost.pk) == RequestStatus.DONE
    assert len(orders.refunds) == 1
    # A fresh executing one (a worker on it now) is left alone.
    assert services.requests_to_recover() == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_agents_approving_at_once_and_a_retried_task_pay_one_refund(postgres, orders, big_order_ticket, tom, sam):
    request = crabs(big_order_ticket)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(agent) -> None:
        try:
            barrier.wait()
            services.approve_request(request_id=request.pk, by=agent.user)
            outcomes.append("approved")
        except AfterSalesError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(a,)) for a in (tom, sam)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["approved", "refused"]

    runs: list[str] = []
    go = threading.Barrier(3)

    def execute() -> None:
        try:
            go.wait()
            runs.append(tasks.execute_request(request.pk))
        finally:
            connection.close()

    workers = [threading.Thread(target=execute) for _ in range(3)]  # the task and two retries of it
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE
    assert len(orders.refunds) == 1
    assert request.decisions.filter(action=DecisionAction.EXECUTE).count() == 1
