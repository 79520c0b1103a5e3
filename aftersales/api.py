"""The storefront and shopper API for after-sales requests:
GET/POST /api/v1/inquiries/{id}/aftersales/, and the storefront's report of a returned parcel,
POST /api/v1/aftersales/{public_id}/return-received/.

The caller proves the inquiry is theirs with the tracking token (a shopper's app) or is the
storefront that submitted it (its API token). Validate, call open_request, answer.
"""

import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.models import AfterSalesRequest, FreshProblem, Kind, Opener
from aftersales.selectors import requests_of_ticket
from aftersales.services import REASON_MAX_LENGTH, ClaimedItem, mark_return_received, open_request
from core.auth import CachedTokenAuthentication
from core.throttling import ScopedWindowRateThrottle
from tickets.api import TRACKING_TOKEN_PARAMETER, CanSubmitInquiries, ShopperRateThrottle, tracking_token_from
from tickets.attachments import AttachmentRefused, prepare_images
from tickets.models import Ticket
from tickets.tracking import token_matches

IDEMPOTENCY_KEY_MAX = 128


class ItemLineSerializer(serializers.Serializer):
    item_id = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)


class AfterSalesCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    order_number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="Default: the inquiry's order."
    )
    items = ItemLineSerializer(many=True, required=False, default=list)
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        default=Decimal(0),
        help_text="The money asked for.",
    )
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, required=False, allow_blank=True, default="")
    fresh_problem = serializers.ChoiceField(choices=FreshProblem.choices, required=False, allow_blank=True, default="")
    photo_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=10,
        help_text="Photos already sent on this inquiry; or upload files as `photos` (multipart).",
    )


class AfterSalesItemSerializer(serializers.Serializer):
    item_id = serializers.CharField()
    title = serializers.CharField()
    quantity = serializers.IntegerField()


class AfterSalesRequestSerializer(serializers.ModelSerializer):
    items = AfterSalesItemSerializer(many=True)
    automatic = serializers.BooleanField(source="was_automatic", allow_null=True)

    class Meta:
        model = AfterSalesRequest
        fields = [
            "id",
            "public_id",
            "ticket_id",
            "kind",
            "resolution",
            "status",
            "order_number",
            "items",
            "amount_requested",
            "amount_approved",
            "currency",
            "stage",
            "rule",
            "automatic",
            "photo_count",
            "denial_reason",
            "denial_text",
            "result_reference",
            "return_received_at",
            "return_tracking_number",
            "created_at",
            "decided_at",
            "done_at",
        ]

    def to_representation(self, instance: AfterSalesRequest) -> dict[str, Any]:
        """The answer to every claim, built directly: ModelSerializer builds its fields from the
        model for each instance, a large share of a claim's web CPU. The declared fields stay the
        schema; DRF's own fields render the values that need formatting, and
        tests/aftersales/test_api.py checks the two renderings are equal."""
        return {
            "id": instance.pk,
            "public_id": str(instance.public_id),
            "ticket_id": instance.ticket_id,
            "kind": instance.kind,
            "resolution": instance.resolution,
            "status": instance.status,
            "order_number": instance.order_number,
            "items": [{"item_id": i.item_id, "title": i.title, "quantity": i.quantity} for i in instance.items.all()],
            "amount_requested": _AMOUNT.to_representation(instance.amount_requested),
            "amount_approved": _amount_or_none(instance.amount_approved),
            "currency": instance.currency,
            "stage": instance.stage,
            "rule": instance.rule,
            "automatic": instance.was_automatic,
            "photo_count": instance.photo_count,
            "denial_reason": instance.denial_reason,
            "denial_text": instance.denial_text,
            "result_reference": instance.result_reference,
            "return_received_at": _moment_or_none(instance.return_received_at),
            "return_tracking_number": instance.return_tracking_number,
            "created_at": _moment_or_none(instance.created_at),
            "decided_at": _moment_or_none(instance.decided_at),
            "done_at": _moment_or_none(instance.done_at),
        }


_AMOUNT = serializers.DecimalField(max_digits=12, decimal_places=2)
_MOMENT = serializers.DateTimeField()


def _amount_or_none(value: Decimal | None) -> str | None:
    return None if value is None else _AMOUNT.to_representation(value)


def _moment_or_none(value: Any) -> str | None:
    return None if value is None else _MOMENT.to_representation(value)


def _ticket_of_caller(request: Request, view: APIView, ticket_id: int) -> Ticket:
    """The ticket when the caller may act on it; 404 otherwise (never reveal that it exists). A
    wrong, missing or non-ASCII token and an unknown id get the same answer (tickets.tracking)."""
    ticket = Ticket.objects.only("id", "tracking_nonce", "client_id", "order_number").filter(pk=ticket_id).first()
    user = request.user
    if (
        ticket is not None
        and ticket.client_id is not None
        and ticket.client_id == user.pk
        and CanSubmitInquiries().has_permission(request, view)
    ):
        return ticket
    found: tuple[int | None, str | None] = (ticket.pk, ticket.tracking_nonce) if ticket is not None else (None, None)
    matches = token_matches(*found, tracking_token_from(request) or "")
    if ticket is None or not matches:
        raise NotFound("No inquiry matches this id and tracking token.")
    return ticket


def _data_of(request: Request) -> Any:
    """JSON as sent; a multipart form carries `items` and `photo_ids` as JSON text."""
    if request.content_type.startswith("application/json"):
        return request.data
    form: Any = request.data
    data: dict[str, Any] = {k: form.get(k) for k in form if k not in ("photos", "items", "photo_ids")}
    for name in ("items", "photo_ids"):
        raw = form.get(name)
        if raw:
            try:
                data[name] = json.loads(raw)
            except ValueError as exc:
                raise DRFValidationError({name: ["Send a JSON list."]}) from exc
    return data


class InquiryAfterSalesView(APIView):
    authentication_classes = [CachedTokenAuthentication]
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ShopperRateThrottle, ScopedWindowRateThrottle]
    throttle_scope = "intake"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        parameters=[TRACKING_TOKEN_PARAMETER],
        responses={200: AfterSalesRequestSerializer(many=True), 404: OpenApiResponse(description="No such inquiry.")},
        summary="The inquiry's after-sales requests and their states",
    )
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket_of_caller(request, self, ticket_id)
        return Response(AfterSalesRequestSerializer(requests_of_ticket(ticket.id), many=True).data)

    @extend_schema(
        request=AfterSalesCreateSerializer,
        parameters=[
            TRACKING_TOKEN_PARAMETER,
            OpenApiParameter("Idempotency-Key", location=OpenApiParameter.HEADER, required=False),
        ],
        responses={
            201: AfterSalesRequestSerializer,
            200: OpenApiResponse(AfterSalesRequestSerializer, description="Replayed: the request this key opened."),
            400: OpenApiResponse(description="Field errors (kind, items, amount, photos, order)."),
            404: OpenApiResponse(description="No inquiry with this id and token."),
            409: OpenApiResponse(description="The inquiry is closed, or the items already have a request."),
        },
        examples=[
            OpenApiExample(
                "Rotten cherries",
                request_only=True,
                value={
                    "kind": "fresh_guarantee",
                    "items": [{"item_id": "1", "quantity": 1}],
                    "amount": "134.00",
                    "fresh_problem": "rotten",
                    "reason": "车厘子一半都烂了",
                    "photo_ids": [42],
                },
            )
        ],
        summary="Open an after-sales request (refund, return, exchange, reship, fresh guarantee, coupon)",
        description=(
            "Decided at once by the category's policy for the order's stage: within policy it is approved "
            "without review and paid through the order system (status auto_approved → executing → done); "
            "otherwise it waits for a specialist (pending_review). Fresh-guarantee claims need photos."
        ),
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket_of_caller(request, self, ticket_id)
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
            raise DRFValidationError({"Idempotency-Key": [f"At most {IDEMPOTENCY_KEY_MAX} characters."]})
        body = AfterSalesCreateSerializer(data=_data_of(request))
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            photos = prepare_images(request.FILES.getlist("photos")) if request.FILES else []
        except AttachmentRefused as exc:
            raise DRFValidationError({"photos": [str(exc)]}) from exc
        by_storefront = ticket.client_id is not None and ticket.client_id == request.user.pk
        try:
            result = open_request(
                ticket_id=ticket.id,
                kind=data["kind"],
                items=[ClaimedItem(item_id=i["item_id"], quantity=i["quantity"]) for i in data["items"]],
                amount=data["amount"],
                reason=data["reason"],
                fresh_problem=data["fresh_problem"],
                order_number=data["order_number"] or ticket.order_number,
                photos=photos,
                attachment_ids=data["photo_ids"],
                opened_by=Opener.STOREFRONT if by_storefront else Opener.SHOPPER,
                client_key=key,
            )
        except DjangoValidationError:
            raise  # core.api turns it into 400 with the field errors
        except Ticket.DoesNotExist as exc:
            raise NotFound("No inquiry matches this id and tracking token.") from exc
        payload = AfterSalesRequestSerializer(result.request).data
        if result.created:
            return Response(payload, status=status.HTTP_201_CREATED)
        return Response(payload, status=status.HTTP_200_OK, headers={"Idempotent-Replayed": "true"})


class ReturnReceivedSerializer(serializers.Serializer):
    tracking_number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="The return parcel's tracking number."
    )


class ReturnReceivedView(APIView):
    """The storefront's warehouse received the parcel of an approved return or exchange: the
    refund is paid (or the replacement shipped) right after. Only the storefront client that
    submitted the inquiry may say so."""

    authentication_classes = [CachedTokenAuthentication]
    permission_classes = [CanSubmitInquiries]
    parser_classes = [JSONParser]

    @extend_schema(
        request=ReturnReceivedSerializer,
        responses={
            200: AfterSalesRequestSerializer,
            400: OpenApiResponse(description="Field errors (tracking_number)."),
            404: OpenApiResponse(description="No after-sales request of this client has this id."),
            409: OpenApiResponse(description="The request does not wait for a returned parcel."),
        },
        summary="Report the returned parcel of an after-sales request as received",
        description=(
            "awaiting_return → return_received, then executing → done through the order API. "
            "Safe to repeat: a second report answers 200 with `Idempotent-Replayed: true` and changes nothing."
        ),
    )
    def post(self, request: Request, public_id: Any) -> Response:
        found = (
            AfterSalesRequest.objects.filter(public_id=public_id, ticket__client_id=request.user.pk)
            .values_list("pk", flat=True)
            .first()
        )
        if found is None:
            raise NotFound("No after-sales request of this client has this id.")
        body = ReturnReceivedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        updated, changed = mark_return_received(
            request_id=found, source="storefront", tracking_number=body.validated_data["tracking_number"]
        )
        headers = {} if changed else {"Idempotent-Replayed": "true"}
        return Response(AfterSalesRequestSerializer(updated).data, headers=headers)
