"""A request that needs a person after its ticket closed (closing is final, a closed ticket is in
no queue) moves to a follow-up ticket for the same shopper and order, in the request's specialist
queue at the review priority; both tickets link to each other. An overdue return does, and so does
a payment that failed on a closed ticket. Sweeps re-run or racing open one follow-up.

Liu (shopper-006) returns slim jeans (JD20261101006, 259.00); Tom resolved her inquiry, and it
closed seven days later, before the ten-day return window ended."""

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from aftersales import services
from aftersales.models import AfterSalesPolicy, AfterSalesRequest, DecisionAction, FollowUp, RequestStatus
from orders.contract import OrderServiceUnavailable
from routing.services import resolve_ticket
from routing.services.intake import route_new_tickets
from routing.services.work import close_resolved_tickets
from tests.aftersales.returns import return_jeans
from tests.factories import queue
from tests.helpers import set_ui_language
from tests.webhooks.receiver import Receiver, serve
from tickets.attachments import make_thumbnail
from tickets.links import make_access_token
from tickets.models import AuthorKind, Message, Ticket, TicketStatus
from webhooks.delivery import deliver_endpoint
from webhooks.outbox import forget_subscriptions
from webhooks.services import create_endpoint


@pytest.fixture
def returns_within_policy(db: None) -> None:
    """Returns after receipt are approved without review up to 300.00, with a 10-day window."""
    AfterSalesPolicy.objects.filter(category=None, stage="after_receipt").update(
        max_auto_amount=Decimal("300.00"), return_window_days=10
    )
    services.forget_policies()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    forget_subscriptions()
    yield from serve(Receiver())
    forget_subscriptions()


def closed_before_the_window_ended(ticket: Ticket, request: AfterSalesRequest, tom) -> None:
    """Tom resolves the inquiry once the return is approved; it closes seven days later."""
    resolve_ticket(ticket_id=ticket.id, by=tom.user)
    assert request.decided_at is not None and request.return_due_at is not None
    with time_machine.travel(request.decided_at + timedelta(days=8), tick=False):
        assert close_resolved_tickets() == 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None
    assert request.return_due_at > ticket.closed_at


def test_an_overdue_return_on_a_closed_ticket_goes_to_a_follow_up_in_the_specialist_queue(
    orders, jeans_ticket, returns_within_policy, tom, fang
):
    request = return_jeans(jeans_ticket)
    closed_before_the_window_ended(jeans_ticket, request, tom)

    with time_machine.travel(request.return_due_at + timedelta(minutes=1), tick=False):
        assert services.sweep_overdue_returns() == 1
        assert services.sweep_overdue_returns() == 0  # a re-run opens no second follow-up
        assert route_new_tickets() == 1

    request.refresh_from_db()
    assert (request.status, request.rule) == (RequestStatus.PENDING_REVIEW, "return_overdue")
    follow_up = request.ticket
    assert follow_up.pk != jeans_ticket.pk
    assert (follow_up.shopper_id, follow_up.order_number) == (jeans_ticket.shopper_id, jeans_ticket.order_number)
    assert follow_up.client_id == jeans_ticket.client_id
    # Routed like any inquiry about the order: to the request's specialist queue, still raised.
    assert (follow_up.status, follow_up.queue) == (TicketStatus.QUEUED, queue("apparel"))
    assert follow_up.priority >= settings.AFTERSALES_REVIEW_PRIORITY
    link = FollowUp.objects.get()
    assert (link.request_id, link.from_ticket_id, link.to_ticket_id) == (request.pk, jeans_ticket.pk, follow_up.pk)
    assert link.rule == "return_overdue"
    # The shopper reads it on the open ticket; the closed one stays closed and unchanged.
    first = Message.objects.filter(ticket=follow_up).order_by("id").first()
    assert first is not None and first.author_kind == AuthorKind.SYSTEM and f"#{jeans_ticket.pk}" in first.body
    told = Message.objects.filter(ticket=follow_up, body__contains="not received the parcel")
    assert told.count() == 1
    assert not Message.objects.filter(ticket=jeans_ticket, body__contains="not received the parcel").exists()
    jeans_ticket.refresh_from_db()
    assert jeans_ticket.status == TicketStatus.CLOSED
    actions = list(request.decisions.values_list("action", flat=True))
    assert actions == [DecisionAction.AUTO_APPROVE, DecisionAction.RETURN_OVERDUE, DecisionAction.FOLLOW_UP]

    # The specialist decides on the follow-up: more time, and the parcel is paid once when it comes.
    services.approve_request(request_id=request.pk, by=fang.user, note="Parcel is at the carrier")
    services.mark_return_received(request_id=request.pk, source="storefront", tracking_number="SF9")
    assert services.execute_due_requests() == ["done"]
    assert [r["amount"] for r in orders.refunds] == ["259.00"]
    # "Paid" is told where the request is now, as every outcome after the move.
    paid = Message.objects.filter(body__contains="has been paid")
    assert list(paid.values_list("ticket_id", flat=True)) == [follow_up.pk]


def test_an_overdue_return_on_a_resolved_ticket_still_reopens_that_ticket(
    orders, jeans_ticket, returns_within_policy, tom
):
    request = return_jeans(jeans_ticket)
    resolve_ticket(ticket_id=jeans_ticket.id, by=tom.user)
    with time_machine.travel(request.return_due_at + timedelta(minutes=1), tick=False):
        assert services.sweep_overdue_returns() == 1
    request.refresh_from_db()
    jeans_ticket.refresh_from_db()
    assert request.ticket_id == jeans_ticket.pk and jeans_ticket.status == TicketStatus.QUEUED
    assert not FollowUp.objects.exists() and Ticket.objects.count() == 1


def test_a_payment_failing_after_the_ticket_closed_goes_to_a_follow_up_and_a_retry_pays_once(
    orders, jeans_ticket, returns_within_policy, tom
):
    request = return_jeans(jeans_ticket)
    closed_before_the_window_ended(jeans_ticket, request, tom)
    services.mark_return_received(request_id=request.pk, source="storefront", tracking_number="SF1")
    orders.fail_status = 503
    assert services.execute_due_requests() == [RequestStatus.FAILED]

    request.refresh_from_db()
    assert request.status == RequestStatus.FAILED and request.ticket_id != jeans_ticket.pk
    link = FollowUp.objects.get()
    assert (link.from_ticket_id, link.to_ticket_id, link.rule) == (
        jeans_ticket.pk,
        request.ticket_id,
        "execution_failed",
    )
    assert request.ticket.priority >= settings.AFTERSALES_REVIEW_PRIORITY
    assert route_new_tickets() == 1

    orders.fail_status = None
    services.retry_request(request_id=request.pk, by=tom.user)
    assert services.execute_due_requests() == [RequestStatus.DONE]
    assert [r["amount"] for r in orders.refunds] == ["259.00"]
    assert FollowUp.objects.count() == 1


def test_the_overdue_return_is_told_to_the_storefronts_receiver(
    orders, jeans_ticket, returns_within_policy, tom, receiver
):
    request = return_jeans(jeans_ticket)
    closed_before_the_window_ended(jeans_ticket, request, tom)
    endpoint = create_endpoint(
        client=jeans_ticket.client, url=receiver.url, event_types=["aftersales.return_overdue"], secret="whsec_test"
    )
    with time_machine.travel(request.return_due_at + timedelta(minutes=1), tick=False):
        services.sweep_overdue_returns()
        assert deliver_endpoint(endpoint_id=endpoint.pk).delivered == 1

    request.refresh_from_db()
    (envelope,) = receiver.envelopes
    assert envelope["type"] == "aftersales.return_overdue"
    data = envelope["data"]
    assert (data["request_id"], data["status"], data["rule"]) == (request.pk, "pending_review", "return_overdue")
    assert data["ticket_id"] == request.ticket_id and data["follow_up_of_ticket_id"] == jeans_ticket.pk
    assert data["return_due_at"] == request.return_due_at.isoformat()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_once_open_one_follow_up(postgres, orders, jeans_ticket, returns_within_policy, tom):
    request = return_jeans(jeans_ticket)
    closed_before_the_window_ended(jeans_ticket, request, tom)
    go = threading.Barrier(2)
    moved: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            go.wait()
            moved.append(services.sweep_overdue_returns())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(request.return_due_at + timedelta(minutes=1), tick=True):
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == [] and sorted(moved) == [0, 1]
    assert FollowUp.objects.count() == 1 and Ticket.objects.count() == 2


def test_the_closed_ticket_and_its_follow_up_link_to_each_other(
    orders, jeans_ticket, returns_within_policy, tom, sam, signed_in
):
    request = return_jeans(jeans_ticket)
    closed_before_the_window_ended(jeans_ticket, request, tom)
    with time_machine.travel(request.return_due_at + timedelta(minutes=1), tick=False):
        services.sweep_overdue_returns()
    request.refresh_from_db()
    follow_up_id = request.ticket_id

    closed_page = signed_in(sam).get(f"/console/tickets/{jeans_ticket.id}/").content.decode()
    panel = closed_page[closed_page.index('id="ticket-aftersales"') :]
    panel = panel[: panel.index("</section>")]
    assert "hidden" not in panel[: panel.index(">")]
    assert f'href="/console/tickets/{follow_up_id}/"' in panel and "Return overdue" in panel
    follow_up_page = signed_in(sam).get(f"/console/tickets/{follow_up_id}/").content.decode()
    assert f'href="/console/tickets/{jeans_ticket.id}/"' in follow_up_page
    assert f'id="aftersales-{request.pk}"' in follow_up_page


def test_the_follow_ups_agent_sees_the_evidence_left_on_the_closed_ticket(
    orders, jeans_ticket, returns_within_policy, tom, fang, ana, signed_in
):
    request = return_jeans(jeans_ticket)
    closed_before_the_window_ended(jeans_ticket, request, tom)
    with time_machine.travel(request.return_due_at + timedelta(minutes=1), tick=False):
        services.sweep_overdue_returns()
    request.refresh_from_db()
    Ticket.objects.filter(pk=request.ticket_id).update(status=TicketStatus.ASSIGNED, assigned_agent=fang.user)
    photo = request.evidence.attachments.get()
    assert request.evidence.ticket_id == jeans_ticket.pk  # the photo stayed where the shopper sent it

    page = signed_in(fang).get(f"/console/tickets/{request.ticket_id}/").content.decode()
    link = f"/console/aftersales/{request.pk}/evidence/{photo.pk}/"
    assert f'href="{link}"' in page
    assert signed_in(fang).get(link).status_code == 200
    make_thumbnail(attachment_id=photo.pk)
    assert signed_in(fang).get(f"{link}thumb/")["Content-Type"] == "image/jpeg"
    assert signed_in(ana).get(link).status_code == 404  # neither ticket is hers
    assert signed_in(fang).get(f"/console/aftersales/{request.pk}/evidence/{photo.pk + 999}/").status_code == 404


def test_in_chinese_both_links_read_with_full_width_brackets_and_stop(
    orders, jeans_ticket, returns_within_policy, tom, sam, signed_in
):
    request = return_jeans(jeans_ticket)
    closed_before_the_window_ended(jeans_ticket, request, tom)
    with time_machine.travel(request.return_due_at + timedelta(minutes=1), tick=False):
        services.sweep_overdue_returns()
    request.refresh_from_db()
    follow_up_id = request.ticket_id
    set_ui_language("zh-hans", sam)

    closed_page = signed_in(sam).get(f"/console/tickets/{jeans_ticket.id}/").content.decode()
    moved = closed_page[closed_page.index(f'id="aftersales-moved-{request.pk}"') :]
    moved = moved[: moved.index("</p>")]
    assert f'已转到后续工单 <a href="/console/tickets/{follow_up_id}/">#{follow_up_id}</a>（退货逾期）。' in moved
    follow_up_page = signed_in(sam).get(f"/console/tickets/{follow_up_id}/").content.decode()
    came_from = follow_up_page[follow_up_page.index('class="help as-follow-up-of"') :]
    came_from = came_from[: came_from.index("</p>")]
    assert (
        f'接续已关闭的工单 <a href="/console/tickets/{jeans_ticket.id}/">#{jeans_ticket.id}</a>（退货逾期）'
        in came_from
    )
    assert "(" not in came_from and "(" not in moved


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ("We have not received your returned parcel yet", "moved to inquiry")),
        ("zh-CN", ("我们尚未收到您的退货包裹", "此申请已转到咨询")),
    ],
)
def test_liu_reads_on_his_closed_inquiry_where_his_return_is_now_and_follows_it_there(
    orders, jeans_ticket, returns_within_policy, tom, language, words
):
    request = return_jeans(jeans_ticket)
    closed_before_the_window_ended(jeans_ticket, request, tom)
    with time_machine.travel(request.return_due_at + timedelta(minutes=1), tick=False):
        services.sweep_overdue_returns()
    request.refresh_from_db()
    follow_up_id = request.ticket_id
    liu = Client(HTTP_ACCEPT_LANGUAGE=language)
    liu.get(f"/shop/access/{make_access_token(jeans_ticket.id)}/")  # the link he holds: the closed inquiry

    page = liu.get(f"/shop/inquiries/{jeans_ticket.id}/").content.decode()
    block = page[page.index(f'id="my-aftersales-{request.pk}"') :]
    block = block[: block.index("</article>")]
    assert 'data-status="pending_review"' in block
    assert all(word in block for word in words)
    link = re.search(r'<a href="(/shop/access/[^"]+/)">#(\d+)</a>', block)
    assert link is not None and int(link.group(2)) == follow_up_id

    there = liu.get(link.group(1), follow=True)
    assert there.redirect_chain[-1][0] == f"/shop/inquiries/{follow_up_id}/"
    assert f'id="my-aftersales-{request.pk}"' in there.content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_attempt_that_finishes_after_the_request_moved_tells_liu_on_the_follow_up(
    postgres, orders, jeans_ticket, returns_within_policy, tom, monkeypatch
):
    """Liu's parcel arrives after his inquiry closed. The worker paying it (attempt A) stalls past
    the stale time; the recovery re-claims it (B), the order system times out, and the request moves
    to a follow-up; Tom retries there (C). Then A's payment comes back: the request is paid once,
    and "your refund has been paid" reaches Liu on the follow-up, not on the closed inquiry."""
    request = return_jeans(jeans_ticket)
    closed_before_the_window_ended(jeans_ticket, request, tom)
    services.mark_return_received(request_id=request.pk, source="storefront", tracking_number="SF7")
    real = services.get_order_system()
    a_calling, a_answers, c_calling, c_answers = (threading.Event() for _ in range(4))
    calls: list[str] = []

    class HeldOrderSystem:
        """The real order service, with the first and third refund calls held until the story goes on."""

        def refund(self, **kwargs):
            calls.append(kwargs["idempotency_key"])
            if len(calls) == 2:
                raise OrderServiceUnavailable("timed out")
            calling, answers = (a_calling, a_answers) if len(calls) == 1 else (c_calling, c_answers)
            calling.set()
            assert answers.wait(10)
            return real.refund(**kwargs)

    monkeypatch.setattr(services, "get_order_system", HeldOrderSystem)
    outcomes: dict[str, object] = {}

    def attempt(name: str) -> None:
        try:
            outcomes[name] = services.execute_request(request_id=request.pk)
        except BaseException as exc:  # reported below
            outcomes[name] = exc
        finally:
            connection.close()

    a = threading.Thread(target=attempt, args=("A",))
    c = threading.Thread(target=attempt, args=("C",))
    try:
        a.start()
        assert a_calling.wait(10)
        stale = timezone.now() + timedelta(seconds=settings.AFTERSALES_EXECUTING_STALE_SECONDS + 1)
        assert services.execute_request(request_id=request.pk, now=stale) == RequestStatus.FAILED  # B
        request.refresh_from_db()
        follow_up_id = request.ticket_id
        assert follow_up_id != jeans_ticket.pk
        services.retry_request(request_id=request.pk, by=tom.user)
        c.start()
        assert c_calling.wait(10)
        a_answers.set()
        a.join(10)
    finally:
        a_answers.set()
        c_answers.set()
        for thread in (a, c):
            if thread.ident is not None:  # started
                thread.join(10)

    assert outcomes == {"A": RequestStatus.DONE, "C": RequestStatus.DONE}
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE and len(calls) == 3 and len(set(calls)) == 1
    assert [r["amount"] for r in orders.refunds] == ["259.00"]
    paid = Message.objects.filter(body__contains="has been paid")
    assert list(paid.values_list("ticket_id", flat=True)) == [follow_up_id]
