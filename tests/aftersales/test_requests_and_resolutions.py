"""Stories of after-sales requests against the reference order service on loopback: Zhao's rotten
cherries refunded at once, his dead crabs (above the automatic limit) approved by Tom in one
action, Fang above her limit waiting for Sam's second approval, denials told in Zhao's language,
items that cannot be claimed twice, and a policy edit that changes new requests only."""

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from aftersales import services
from aftersales.models import AfterSalesPolicy, AfterSalesRequest, DecisionAction, Opener, RequestStatus
from aftersales.services import AfterSalesError, ClaimedItem, ItemsAlreadyClaimed, open_request
from core.events import Event, subscribe, unsubscribe
from routing.models import RoutingDecision
from tests.photos import jpeg_with_location
from tickets.attachments import NamedBytes, prepare_images
from tickets.models import AuthorKind, Message, Ticket


@pytest.fixture
def events() -> Iterator[list[Event]]:
    seen: list[Event] = []
    subscribe("test-aftersales", seen.extend)
    yield seen
    unsubscribe("test-aftersales")


def photo() -> list:
    return prepare_images([NamedBytes("rotten.jpg", jpeg_with_location())])


def claim_half_the_cherries(ticket: Ticket, **overrides: object):
    values: dict = {
        "ticket_id": ticket.id,
        "kind": "fresh_guarantee",
        "items": [ClaimedItem(item_id="1", quantity=1)],
        "amount": "134.00",
        "reason": "车厘子一半都烂了",
        "fresh_problem": "rotten",
        "photos": photo(),
        **overrides,
    }
    return open_request(**values)


def claim_the_crabs(ticket: Ticket):
    return open_request(
        ticket_id=ticket.id,
        kind="fresh_guarantee",
        items=[ClaimedItem(item_id="1", quantity=1)],
        amount="1288.00",
        reason="全死了",
        fresh_problem="rotten",
        photos=photo(),
    )


def test_half_the_rotten_cherries_are_refunded_at_once(
    orders, zhaos_ticket, eager_celery, events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = claim_half_the_cherries(zhaos_ticket)

    request = AfterSalesRequest.objects.get(pk=result.request.pk)
    assert request.status == RequestStatus.DONE
    assert request.was_automatic is True
    assert request.rule == "within_policy"
    assert request.stage == "after_receipt" and request.category_slug == "fresh_food"
    assert request.policy_snapshot["window_hours"] == 48
    assert [r["amount"] for r in orders.refunds] == ["134.00"]
    assert request.result_reference == orders.refunds[0]["refund_id"]
    assert [d.action for d in request.decisions.all()] == [
        DecisionAction.AUTO_APPROVE,
        DecisionAction.EXECUTE,
        DecisionAction.DONE,
    ]
    assert [e.type for e in events] == [
        "aftersales.requested",
        "aftersales.approved",
        "aftersales.executed",
    ]
    assert events[-1].data["amount_approved"] == "134.00" and events[-1].ticket_id == zhaos_ticket.id
    told = Message.objects.filter(ticket=zhaos_ticket, author_kind=AuthorKind.SYSTEM).get()
    assert "134.00" in told.body and "退款" in told.body  # in Zhao's language
    assert request.evidence is not None and request.evidence.attachments.count() == 1


def test_a_fresh_claim_without_a_photo_is_refused_and_nothing_is_written(orders, zhaos_ticket):
    with pytest.raises(ValidationError) as refused:
        claim_half_the_cherries(zhaos_ticket, photos=[])
    assert "photos" in refused.value.message_dict
    assert not AfterSalesRequest.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"items": [ClaimedItem(item_id="9", quantity=1)]}, "items"),
        ({"items": [ClaimedItem(item_id="1", quantity=2)]}, "items"),
        ({"amount": "9999.00"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"kind": "bribe"}, "kind"),
        ({"fresh_problem": ""}, "fresh_problem"),
        ({"order_number": "JD-NOPE"}, "order_number"),
    ],
)
def test_bad_requests_get_field_errors(orders, zhaos_ticket, overrides, field):
    with pytest.raises(ValidationError) as refused:
        claim_half_the_cherries(zhaos_ticket, **overrides)
    assert field in refused.value.message_dict
    assert not AfterSalesRequest.objects.exists()


def test_the_same_items_cannot_be_claimed_twice(orders, zhaos_ticket):
    claim_half_the_cherries(zhaos_ticket)
    with pytest.raises(ItemsAlreadyClaimed):
        claim_half_the_cherries(zhaos_ticket, kind="refund_only", fresh_problem="")
    assert AfterSalesRequest.objects.count() == 1


def test_a_claim_above_the_limit_goes_to_the_specialist_queue_raised_with_its_evidence(
    orders, big_order_ticket, events
):
    request = claim_the_crabs(big_order_ticket).request

    assert request.status == RequestStatus.PENDING_REVIEW
    assert request.rule == "amount_above_limit"
    assert "1288.00 is above 300.00" in request.decisions.get().detail
    big_order_ticket.refresh_from_db()
    assert big_order_ticket.priority >= 50
    decision = RoutingDecision.objects.filter(ticket=big_order_ticket).latest("id")
    assert decision.queue.slug == "fresh_food" and "needs review" in decision.reason
    assert [e.type for e in events] == ["aftersales.requested"]
    assert not orders.refunds


def test_tom_approves_it_alone_within_his_limit(
    orders, big_order_ticket, tom, eager_celery, django_capture_on_commit_callbacks
):
    request = claim_the_crabs(big_order_ticket).request
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_request(request_id=request.pk, by=tom.user)
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE
    assert (request.rule, request.was_automatic, request.decided_by) == ("agent_within_limit", False, tom.user)
    assert [r["amount"] for r in orders.refunds] == ["1288.00"]


def test_above_her_limit_fang_needs_a_supervisors_second_approval(
    orders, big_order_ticket, fang, sam, eager_celery, django_capture_on_commit_callbacks
):
    request = claim_the_crabs(big_order_ticket).request
    services.approve_request(request_id=request.pk, by=fang.user)
    request.refresh_from_db()
    assert (request.status, request.first_approver) == (RequestStatus.PENDING_SUPERVISOR, fang.user)
    assert not orders.refunds

    with pytest.raises(AfterSalesError, match="supervisor"):
        services.approve_request(request_id=request.pk, by=fang.user)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_request(request_id=request.pk, by=sam.user)
    request.refresh_from_db()
    assert (request.status, request.rule) == (RequestStatus.DONE, "supervisor_second_approval")
    assert [d.action for d in request.decisions.all()][:3] == [
        DecisionAction.REVIEW,
        DecisionAction.NEEDS_SECOND_APPROVAL,
        DecisionAction.APPROVE,
    ]
    assert len(orders.refunds) == 1


def test_a_partial_approval_pays_the_part(
    orders, big_order_ticket, tom, eager_celery, django_capture_on_commit_callbacks
):
    request = claim_the_crabs(big_order_ticket).request
    with pytest.raises(ValidationError):
        services.approve_request(request_id=request.pk, by=tom.user, amount="2000.00")
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_request(request_id=request.pk, by=tom.user, amount="644.00")
    assert [r["amount"] for r in orders.refunds] == ["644.00"]


@pytest.mark.parametrize(
    ("resolution", "amount", "ledger"), [("reship", None, "reshipments"), ("coupon", "50.00", "coupons")]
)
def test_a_specialist_can_resolve_with_a_reship_or_a_coupon_instead(
    orders, big_order_ticket, tom, eager_celery, django_capture_on_commit_callbacks, resolution, amount, ledger
):
    request = claim_the_crabs(big_order_ticket).request
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_request(request_id=request.pk, by=tom.user, resolution=resolution, amount=amount)
    request.refresh_from_db()
    assert (request.status, request.resolution) == (RequestStatus.DONE, resolution)
    assert len(getattr(orders, ledger)) == 1 and not orders.refunds


def test_a_denial_is_told_in_the_shoppers_language_and_frees_the_items(orders, big_order_ticket, tom, events):
    request = claim_the_crabs(big_order_ticket).request
    with pytest.raises(ValidationError):
        services.deny_request(request_id=request.pk, by=tom.user, reason="other", text="")
    services.deny_request(request_id=request.pk, by=tom.user, reason="no_evidence", text="照片里的螃蟹是活的")
    request.refresh_from_db()
    assert request.status == RequestStatus.DENIED
    told = Message.objects.filter(ticket=big_order_ticket, author_kind=AuthorKind.SYSTEM, is_internal=False).get()
    assert "照片里的螃蟹是活的" in told.body and "未" in told.body
    assert events[-1].type == "aftersales.denied" and events[-1].data["reason"] == "no_evidence"
    with pytest.raises(AfterSalesError):
        services.deny_request(request_id=request.pk, by=tom.user, reason="no_evidence")
    # The crabs may be claimed again (a new photo, say).
    assert claim_the_crabs(big_order_ticket).request.status == RequestStatus.PENDING_REVIEW


def test_a_policy_change_applies_to_new_requests_only(orders, zhaos_ticket, big_order_ticket, tom):
    first = claim_half_the_cherries(zhaos_ticket).request
    policy = AfterSalesPolicy.objects.get(category__slug="fresh_food", stage="after_receipt")
    policy.max_auto_amount = Decimal("2000.00")
    policy.version += 1
    policy.save()

    first.refresh_from_db()
    assert first.policy_snapshot["max_auto_amount"] == "300.00" and first.policy_snapshot["version"] == 1
    second = claim_the_crabs(big_order_ticket).request
    assert second.status == RequestStatus.AUTO_APPROVED
    assert second.policy_snapshot["version"] == 2


def test_a_refund_before_shipment_is_automatic(orders, zhao, eager_celery, django_capture_on_commit_callbacks):
    from tests.factories import TicketFactory

    ticket = TicketFactory(shopper=zhao, order_number="JD20261103021")  # not shipped (shopper-007's in the demo)
    ticket.shopper.external_id = "shopper-007"
    ticket.shopper.save()
    with django_capture_on_commit_callbacks(execute=True):
        request = open_request(
            ticket_id=ticket.id,
            kind="refund_only",
            items=[ClaimedItem("1", 2)],
            amount="78.00",
            opened_by=Opener.STOREFRONT,
        ).request
    request.refresh_from_db()
    assert (request.stage, request.rule, request.status) == ("before_shipment", "not_shipped_auto_refund", "done")


def test_the_order_of_another_account_goes_to_review(orders, big_order_ticket):
    big_order_ticket.order_number = "JD20261101001"  # Wang's ring
    big_order_ticket.save()
    request = open_request(
        ticket_id=big_order_ticket.id, kind="refund_only", items=[ClaimedItem("1", 1)], amount="10.00"
    ).request
    assert (request.status, request.rule) == (RequestStatus.PENDING_REVIEW, "order_of_another_shopper")


def test_when_the_order_system_is_down_the_request_waits_for_a_person(orders, zhaos_ticket):
    orders.fail_status = 503
    request = claim_half_the_cherries(zhaos_ticket).request
    assert (request.status, request.rule) == (RequestStatus.PENDING_REVIEW, "order_unavailable")


def test_a_closed_inquiry_takes_no_request(orders, zhaos_ticket):
    Ticket.objects.filter(pk=zhaos_ticket.pk).update(status="closed")
    with pytest.raises(AfterSalesError):
        claim_half_the_cherries(zhaos_ticket)
