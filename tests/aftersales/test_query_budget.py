"""The automatic path (API claim → decision → execution kicked) is a fixed, short list of
statements, and one execution run pays a burst of approved requests with a few statements per
batch: a change in either count is a change to review (tests.helpers.query_budget)."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales import services, tasks
from aftersales.models import AfterSalesRequest, DecisionAction, RequestStatus
from aftersales.services import ClaimedItem, open_request
from tests.factories import TicketFactory, queue
from tests.helpers import query_budget
from tests.photos import jpeg_with_location
from tickets.attachments import NamedBytes, prepare_images
from tickets.models import TicketStatus
from webhooks.outbox import subscriptions

AUTOMATIC_CLAIM = [
    "the inquiry, checked against the tracking token",
    "the photos named, with their message (the evidence)",
    "the ticket, locked, with the shopper's standing (three counts over 90 days) as columns",
    "INSERT the request",
    "INSERT its items",
    "INSERT the decision with its rule",
]


def test_an_automatic_claim_through_the_api_is_six_statements_and_one_kick(
    client, orders, zhaos_ticket, photo_on_ticket, django_capture_on_commit_callbacks
):
    url = f"/api/v1/inquiries/{zhaos_ticket.id}/aftersales/?token={zhaos_ticket.tracking_token}"
    claim = {
        "kind": "fresh_guarantee",
        "items": [{"item_id": "1", "quantity": 1}],
        "amount": "134.00",
        "fresh_problem": "rotten",
        "reason": "一半都烂了",
        "photo_ids": [photo_on_ticket.id],
    }
    services.policy_for(category="fresh_food", stage="after_receipt")  # the per-process copies, as in a
    subscriptions()  # running server (each is re-read every few seconds, once per process)
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        response = client.post(url, claim, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "auto_approved" and response.json()["items"][0]["item_id"] == "1"
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == query_budget(postgresql=len(AUTOMATIC_CLAIM), sqlite=len(AUTOMATIC_CLAIM)), statements
    assert [s.split()[0] for s in statements[-3:]] == ["INSERT"] * 3
    # After commit: one kick of the execution run (no task per request, no query).
    assert len(callbacks) >= 1


def test_one_execution_run_pays_a_burst_of_approved_requests(orders, zhao, tom, eager_celery):
    tickets = [
        TicketFactory(
            shopper=zhao,
            status=TicketStatus.ASSIGNED,
            queue=queue("fresh_food"),
            assigned_agent=tom.user,
            order_number=number,
            order_product_category="fresh_food",
        )
        for number in ("JD20261101003", "JD20261105500")
    ]
    photos = prepare_images([NamedBytes("rot.jpg", jpeg_with_location())])
    for ticket, amount in zip(tickets, ("134.00", "1288.00"), strict=True):
        request = open_request(
            ticket_id=ticket.id,
            kind="fresh_guarantee",
            items=[ClaimedItem(item_id="1", quantity=1)],
            amount=amount,
            fresh_problem="rotten",
            photos=photos,
        ).request
        if request.status == RequestStatus.PENDING_REVIEW:
            services.approve_request(request_id=request.pk, by=tom.user)
    assert set(AfterSalesRequest.objects.values_list("status", flat=True)) <= {"auto_approved", "approved"}
    assert tasks.execute_due() == 2
    assert set(AfterSalesRequest.objects.values_list("status", flat=True)) == {RequestStatus.DONE}
    assert len(orders.refunds) == 2
    assert tasks.execute_due() == 0  # a second run finds nothing: nothing paid twice


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_three_execution_runs_at_once_pay_each_request_once(postgres, orders, big_order_ticket, zhaos_ticket, tom):
    for ticket, amount in ((big_order_ticket, "1288.00"), (zhaos_ticket, "134.00")):
        request = open_request(
            ticket_id=ticket.id,
            kind="fresh_guarantee",
            items=[ClaimedItem(item_id="1", quantity=1)],
            amount=amount,
            fresh_problem="rotten",
            photos=prepare_images([NamedBytes("rot.jpg", jpeg_with_location())]),
        ).request
        if request.status == RequestStatus.PENDING_REVIEW:
            services.approve_request(request_id=request.pk, by=tom.user)
    go = threading.Barrier(3)

    def drain() -> None:
        try:
            go.wait()
            services.execute_due_requests(batch=1)
            services.execute_due_requests(batch=1)
        finally:
            connection.close()

    runs = [threading.Thread(target=drain) for _ in range(3)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert set(AfterSalesRequest.objects.values_list("status", flat=True)) == {RequestStatus.DONE}
    assert len(orders.refunds) == 2
    for request in AfterSalesRequest.objects.all():
        assert request.decisions.filter(action=DecisionAction.EXECUTE).count() == 1


def test_approvals_share_one_execution_run_that_gathers_them_for_a_moment(
    orders, zhaos_ticket, big_order_ticket, monkeypatch, django_capture_on_commit_callbacks
):
    from core.kicks import claim
    from cxconsole.celery import app as celery_app

    sent: list[tuple[str, object]] = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args=None, kwargs=None, **o: sent.append((name, o["queue"]))
    )
    claim(services.EXECUTE_KICK_KEY)  # no run pending from an earlier story
    photos = prepare_images([NamedBytes("rot.jpg", jpeg_with_location())])
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            open_request(
                ticket_id=ticket.id,
                kind="fresh_guarantee",
                items=[ClaimedItem(item_id="1", quantity=1)],
                amount="134.00",
                fresh_problem="rotten",
                photos=photos,
            ).request.status
            for ticket in (zhaos_ticket, big_order_ticket)
        ]
    assert statuses == [RequestStatus.AUTO_APPROVED] * 2
    runs = [task for task in sent if task[0].startswith("aftersales.")]
    assert runs == [("aftersales.execute_due", "aftersales")]  # one run for both

    # That run, in a worker, waits with its kick still pending before it claims and reads.
    from aftersales import tasks

    steps: list[object] = []
    monkeypatch.setattr(tasks.time, "sleep", lambda seconds: steps.append(seconds))
    monkeypatch.setattr(tasks, "claim", lambda key: steps.append(key))
    monkeypatch.setattr(tasks.services, "execute_due_requests", lambda: steps.append("execute") or [])
    tasks.execute_due()
    assert steps == [services.EXECUTION_GATHER_SECONDS, services.EXECUTE_KICK_KEY, "execute"]
