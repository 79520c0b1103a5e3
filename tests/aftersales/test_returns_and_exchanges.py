"""Return and refund, and exchange, wait for the returned parcel: approved → awaiting_return →
(the storefront reports the parcel, or an agent confirms it) → return_received → executing →
done. Nothing is paid or reshipped before; a repeated report changes nothing; a parcel that
never comes can be denied; before shipment there is nothing to send back, so it is paid at once.

Liu (shopper-006) bought slim jeans, waist 28 (JD20261101006, 259.00, delivered days ago)."""

from decimal import Decimal

import pytest

from aftersales import services
from aftersales.models import AfterSalesPolicy, AfterSalesRequest, DecisionAction, RequestStatus
from aftersales.services import AfterSalesError, ClaimedItem, open_request
from tests.factories import TicketFactory
from tests.photos import jpeg_with_location
from tickets.attachments import NamedBytes, prepare_images
from tickets.models import Message


def return_jeans(ticket, *, kind="return_refund", amount="259.00") -> AfterSalesRequest:
    return open_request(
        ticket_id=ticket.id,
        kind=kind,
        items=[ClaimedItem(item_id="1", quantity=1)],
        amount=amount,
        reason="Too small",
        photos=prepare_images([NamedBytes("jeans.jpg", jpeg_with_location())]),
    ).request


def test_a_return_within_policy_is_approved_but_paid_only_when_the_storefront_reports_the_parcel(
    orders, jeans_ticket, storefront_client, eager_celery, after_commit
):
    AfterSalesPolicy.objects.filter(category=None, stage="after_receipt").update(max_auto_amount=Decimal("300.00"))
    services.forget_policies()
    with after_commit():
        request = return_jeans(jeans_ticket)
    request.refresh_from_db()
    assert (request.status, request.rule, request.was_automatic) == ("awaiting_return", "within_policy", True)
    assert orders.refunds == []  # nothing paid before the parcel is back
    told = Message.objects.filter(ticket=jeans_ticket, author_kind="system").last()
    assert "send the item back" in told.body

    url = f"/api/v1/aftersales/{request.public_id}/return-received/"
    with after_commit():
        first = storefront_client.post(url, {"tracking_number": "SF1234567890"}, format="json")
    assert first.status_code == 200, first.content
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE and request.return_tracking_number == "SF1234567890"
    assert [r["amount"] for r in orders.refunds] == ["259.00"]
    actions = list(request.decisions.values_list("action", flat=True))
    assert actions == ["auto_approve", "return_received", "execute", "done"]

    again = storefront_client.post(url, {"tracking_number": "SF1234567890"}, format="json")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["status"] == "done" and len(orders.refunds) == 1


def test_only_the_storefront_that_submitted_the_inquiry_may_report_the_parcel(
    orders, jeans_ticket, storefront_client, client, tom
):
    request = return_jeans(jeans_ticket)
    url = f"/api/v1/aftersales/{request.public_id}/return-received/"
    assert client.post(url, {}, content_type="application/json").status_code in (401, 403)
    jeans_ticket.client = None
    jeans_ticket.save(update_fields=["client"])
    assert storefront_client.post(url, {}, format="json").status_code == 404


def test_a_parcel_reported_for_a_request_that_waits_for_no_return_is_a_409(orders, jeans_ticket, storefront_client):
    request = return_jeans(jeans_ticket)  # 259.00 is above the automatic 200.00: a specialist decides
    assert request.status == RequestStatus.PENDING_REVIEW
    response = storefront_client.post(f"/api/v1/aftersales/{request.public_id}/return-received/", {}, format="json")
    assert response.status_code == 409
    response = storefront_client.post(
        f"/api/v1/aftersales/{request.public_id}/return-received/", {"tracking_number": "x" * 65}, format="json"
    )
    assert response.status_code == 400 and "tracking_number" in response.json()


def test_an_exchange_approved_by_tom_ships_the_replacement_once_he_confirms_the_parcel(
    orders, jeans_ticket, tom, client, eager_celery, after_commit
):
    request = return_jeans(jeans_ticket, kind="exchange", amount="0")
    assert request.status == RequestStatus.PENDING_REVIEW  # exchanges are reviewed
    with after_commit():
        services.approve_request(request_id=request.pk, by=tom.user)
    request.refresh_from_db()
    assert request.status == RequestStatus.AWAITING_RETURN and orders.reshipments == []

    client.force_login(tom.user)
    with after_commit():
        response = client.post(f"/console/aftersales/{request.pk}/return-received/", {"tracking_number": "YT99"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE and request.result_reference.startswith("RS-")
    assert len(orders.reshipments) == 1 and orders.refunds == []
    received = request.decisions.get(action=DecisionAction.RETURN_RECEIVED)
    assert (received.rule, received.actor, received.detail) == ("reported_by_agent", tom.user, "YT99")


def test_a_parcel_that_never_comes_can_be_denied_and_frees_the_items(orders, jeans_ticket, tom):
    request = return_jeans(jeans_ticket)
    services.approve_request(request_id=request.pk, by=tom.user)
    request.refresh_from_db()
    assert request.status == RequestStatus.AWAITING_RETURN
    services.deny_request(request_id=request.pk, by=tom.user, reason="return_not_received", text="")
    request.refresh_from_db()
    assert request.status == RequestStatus.DENIED and not request.items.filter(active=True).exists()
    with pytest.raises(AfterSalesError):
        services.mark_return_received(request_id=request.pk, source="storefront")
    assert orders.refunds == []


def test_before_shipment_a_return_has_nothing_to_send_back_and_is_paid_at_once(
    orders, liu, tom, eager_celery, after_commit
):
    liu.external_id = "shopper-007"  # JD20261103021: phone cases, paid, not shipped
    liu.save()
    ticket = TicketFactory(shopper=liu, order_number="JD20261103021", assigned_agent=tom.user, status="assigned")
    request = open_request(
        ticket_id=ticket.id, kind="return_refund", items=[ClaimedItem("1", 2)], amount="78.00"
    ).request
    assert request.status == RequestStatus.PENDING_REVIEW  # return_refund is reviewed before shipment
    with after_commit():
        services.approve_request(request_id=request.pk, by=tom.user)
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE and [r["amount"] for r in orders.refunds] == ["78.00"]


def test_liu_sees_on_his_page_that_the_jeans_must_be_sent_back(orders, jeans_ticket, tom, client):
    from tickets.links import make_access_token

    request = return_jeans(jeans_ticket)
    services.approve_request(request_id=request.pk, by=tom.user)
    client.get(f"/shop/access/{make_access_token(jeans_ticket.id)}/")
    page = client.get(f"/shop/inquiries/{jeans_ticket.id}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    block = page.content.decode()
    assert 'data-status="awaiting_return"' in block
    assert "please send the item back; the refund is paid as soon as your parcel arrives" in block


def test_tom_sees_his_approval_limit_only_while_a_request_waits_for_his_decision(orders, jeans_ticket, tom, client):
    request = return_jeans(jeans_ticket)
    client.force_login(tom.user)
    page = client.get(f"/console/tickets/{jeans_ticket.id}/").content.decode()
    assert 'id="approval-limit"' in page
    assert page.index('id="ticket-aftersales"') < page.index('id="conversation"')  # open requests first
    services.approve_request(request_id=request.pk, by=tom.user)
    page = client.get(f"/console/tickets/{jeans_ticket.id}/").content.decode()
    assert 'id="approval-limit"' not in page and 'id="return-' in page
