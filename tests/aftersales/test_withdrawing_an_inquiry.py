"""A shopper withdrawing an inquiry while an after-sales request on it waits for a specialist: the
inquiry stays open in its queue for that decision, and the shopper is told why (page, API, in
their language). Withdrawing would close the ticket — final, in no queue — and leave the request
undecided for good: the money asked for would never be paid nor denied.

Zhao's crabs arrived dead (1,288.00, above the automatic limit): the claim waits for Tom in the
fresh-food queue."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from aftersales import services
from aftersales.models import RequestStatus
from routing.services import InquiryKeptOpen, cancel_inquiry
from tests.aftersales.conftest import BIG_FRESH_ORDER
from tests.helpers import refreshed
from tests.photos import jpeg_with_location
from tickets.attachments import NamedBytes, prepare_images
from tickets.links import make_access_token
from tickets.models import CloseReason, Ticket, TicketStatus


def claim_the_crabs(ticket: Ticket):
    return services.open_request(
        ticket_id=ticket.id,
        kind="fresh_guarantee",
        items=[services.ClaimedItem(item_id="1", quantity=1)],
        amount="1288.00",
        reason="全死了",
        fresh_problem="rotten",
        photos=prepare_images([NamedBytes("crabs.jpg", jpeg_with_location())]),
    ).request


def test_the_inquiry_stays_open_for_the_specialists_decision(orders, big_order_ticket):
    request = claim_the_crabs(big_order_ticket)
    assert request.status == RequestStatus.PENDING_REVIEW

    with pytest.raises(InquiryKeptOpen, match=f"order {BIG_FRESH_ORDER}.*stays open until it is settled"):
        cancel_inquiry(ticket_id=big_order_ticket.id)

    ticket = refreshed(big_order_ticket)
    assert (ticket.status, ticket.close_reason, ticket.closed_at) == (TicketStatus.QUEUED, "", None)
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING_REVIEW


def test_once_the_request_is_decided_the_shopper_may_withdraw(orders, big_order_ticket, tom):
    request = claim_the_crabs(big_order_ticket)
    services.deny_request(request_id=request.pk, by=tom.user, reason="no_evidence", text="")

    ticket = cancel_inquiry(ticket_id=big_order_ticket.id)

    assert (ticket.status, ticket.close_reason) == (TicketStatus.CLOSED, CloseReason.ABANDONED)


def test_a_failed_payment_waiting_for_a_retry_keeps_it_open_too(orders, big_order_ticket, tom):
    request = claim_the_crabs(big_order_ticket)
    services.approve_request(request_id=request.pk, by=tom.user)
    orders.fail_status = 503
    assert services.execute_due_requests() == [RequestStatus.FAILED]

    with pytest.raises(InquiryKeptOpen):
        cancel_inquiry(ticket_id=big_order_ticket.id)
    assert refreshed(big_order_ticket).status == TicketStatus.QUEUED


def test_the_api_answers_409_with_the_reason_in_the_shoppers_language(orders, big_order_ticket):
    claim_the_crabs(big_order_ticket)

    response = APIClient().post(
        f"/api/v1/inquiries/{big_order_ticket.id}/cancel/?token={big_order_ticket.tracking_token}",
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )

    assert response.status_code == 409
    assert f"您的售后申请（坏果包赔，订单 {BIG_FRESH_ORDER}）仍需专员处理" in response.json()["detail"]
    assert refreshed(big_order_ticket).status == TicketStatus.QUEUED


def test_the_page_offers_no_withdrawal_and_says_why(orders, big_order_ticket):
    claim_the_crabs(big_order_ticket)
    shopper = Client(HTTP_ACCEPT_LANGUAGE="en")
    shopper.get(f"/shop/access/{make_access_token(big_order_ticket.id)}/")

    page = shopper.get(f"/shop/inquiries/{big_order_ticket.id}/").content.decode()
    assert "Withdraw my inquiry" not in page
    assert 'id="kept-open"' in page and "still needs a specialist&#x27;s decision" in page

    # A withdrawal sent from a page opened before the claim is refused with the same reason.
    answer = shopper.post(f"/shop/inquiries/{big_order_ticket.id}/cancel/", follow=True).content.decode()
    assert "stays open until it is settled" in answer and "Your inquiry is withdrawn." not in answer
    assert refreshed(big_order_ticket).status == TicketStatus.QUEUED
