"""The storefront and shopper API: POST/GET /api/v1/inquiries/{id}/aftersales/."""

import json

import pytest

from aftersales.models import AfterSalesRequest
from tests.aftersales.conftest import CHERRIES_ORDER
from tests.photos import jpeg_with_location

URL = "/api/v1/inquiries/{}/aftersales/"


def cherries(photo_ids):
    return {
        "kind": "fresh_guarantee",
        "items": [{"item_id": "1", "quantity": 1}],
        "amount": "134.00",
        "fresh_problem": "rotten",
        "reason": "一半都烂了",
        "photo_ids": photo_ids,
    }


def test_the_shopper_claims_with_the_tracking_token_and_a_retry_returns_the_same_request(
    client, orders, zhaos_ticket, photo_on_ticket
):
    url = URL.format(zhaos_ticket.id) + f"?token={zhaos_ticket.tracking_token}"
    first = client.post(
        url, cherries([photo_on_ticket.id]), content_type="application/json", HTTP_IDEMPOTENCY_KEY="claim-1"
    )
    assert first.status_code == 201, first.content
    assert first.json()["status"] in ("auto_approved", "executing", "done")
    assert first.json()["rule"] == "within_policy" and first.json()["automatic"] is True
    again = client.post(
        url, cherries([photo_on_ticket.id]), content_type="application/json", HTTP_IDEMPOTENCY_KEY="claim-1"
    )
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    listed = client.get(url).json()
    assert [r["id"] for r in listed] == [first.json()["id"]]
    assert listed[0]["items"] == [{"item_id": "1", "title": "智利车厘子 JJ级 2kg", "quantity": 1}]


def test_photos_can_be_uploaded_with_the_claim(client, orders, zhaos_ticket):
    url = URL.format(zhaos_ticket.id) + f"?token={zhaos_ticket.tracking_token}"
    body = {k: v for k, v in cherries([]).items() if k not in ("items", "photo_ids")}
    body["items"] = json.dumps([{"item_id": "1", "quantity": 1}])
    from django.core.files.uploadedfile import SimpleUploadedFile

    body["photos"] = SimpleUploadedFile("rot.jpg", jpeg_with_location(), content_type="image/jpeg")
    response = client.post(url, body)
    assert response.status_code == 201, response.content
    assert response.json()["photo_count"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"photo_ids": []}, "photos"),
        ({"kind": "free_money"}, "kind"),
        ({"items": [{"item_id": "1", "quantity": 0}]}, "items"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "100000.00"}, "amount"),
        ({"photo_ids": [999999]}, "photo_ids"),
    ],
)
def test_bad_input_is_a_400_with_field_errors_and_nothing_written(
    client, orders, zhaos_ticket, photo_on_ticket, change, field
):
    url = URL.format(zhaos_ticket.id) + f"?token={zhaos_ticket.tracking_token}"
    response = client.post(url, {**cherries([photo_on_ticket.id]), **change}, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not AfterSalesRequest.objects.exists()


def test_a_wrong_token_is_a_404_and_a_second_claim_on_the_same_items_a_409(
    client, orders, zhaos_ticket, photo_on_ticket
):
    assert (
        client.post(
            URL.format(zhaos_ticket.id) + "?token=nope", cherries([1]), content_type="application/json"
        ).status_code
        == 404
    )
    url = URL.format(zhaos_ticket.id) + f"?token={zhaos_ticket.tracking_token}"
    assert client.post(url, cherries([photo_on_ticket.id]), content_type="application/json").status_code == 201
    second = client.post(
        url, {**cherries([photo_on_ticket.id]), "kind": "refund_only"}, content_type="application/json"
    )
    assert second.status_code == 409


def test_the_storefront_opens_one_for_an_inquiry_it_submitted(storefront_client, orders, zhao):
    created = storefront_client.post(
        "/api/v1/inquiries/",
        {
            "shopper": {"external_id": "shopper-003"},
            "channel": "order_page",
            "body": "蓝莓不要了",
            "order": {"number": CHERRIES_ORDER},
        },
        format="json",
    ).json()
    response = storefront_client.post(
        URL.format(created["id"]),
        {"kind": "refund_only", "items": [{"item_id": "2", "quantity": 1}], "amount": "59.90"},
        format="json",
    )
    assert response.status_code == 201, response.content
    request = AfterSalesRequest.objects.get()
    assert request.opened_by == "storefront"


def test_the_answer_built_directly_equals_drfs_own_rendering_in_every_state(
    client, orders, zhaos_ticket, photo_on_ticket, big_order_ticket, tom
):
    """AfterSalesRequestSerializer.to_representation builds the answer without DRF's field
    machinery: it must stay equal, field for field, to what the ModelSerializer renders."""
    from aftersales.api import AfterSalesRequestSerializer
    from aftersales.services import ClaimedItem, deny_request, execute_due_requests, open_request
    from tickets.attachments import NamedBytes, prepare_images

    url = URL.format(zhaos_ticket.id) + f"?token={zhaos_ticket.tracking_token}"
    assert client.post(url, cherries([photo_on_ticket.id]), content_type="application/json").status_code == 201
    assert execute_due_requests() == ["done"]
    review = open_request(
        ticket_id=big_order_ticket.id,
        kind="fresh_guarantee",
        items=[ClaimedItem(item_id="1", quantity=1)],
        amount="1288",
        fresh_problem="rotten",
        photos=prepare_images([NamedBytes("rot.jpg", jpeg_with_location())]),
    ).request
    deny_request(request_id=review.pk, by=tom.user, reason="other", text="照片看不出问题")
    rows = list(AfterSalesRequest.objects.prefetch_related("items"))
    assert {r.status for r in rows} == {"done", "denied"}
    for row in rows:
        fast = AfterSalesRequestSerializer(row).data
        slow = super(AfterSalesRequestSerializer, AfterSalesRequestSerializer(row)).to_representation(row)
        assert json.loads(json.dumps(fast)) == json.loads(json.dumps(slow))
        assert list(fast) == AfterSalesRequestSerializer.Meta.fields
    fresh = open_request(  # an in-memory amount as typed ("1288" → "1288.00")
        ticket_id=big_order_ticket.id,
        kind="reship",
        items=[ClaimedItem(item_id="1", quantity=1)],
        amount="0",
    ).request
    fast = AfterSalesRequestSerializer(fresh).data
    slow = super(AfterSalesRequestSerializer, AfterSalesRequestSerializer(fresh)).to_representation(fresh)
    assert json.loads(json.dumps(fast)) == json.loads(json.dumps(slow))
