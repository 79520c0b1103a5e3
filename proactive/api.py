"""The storefront's order and delivery events: `POST /api/v1/order-events/`."""

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.auth import CachedTokenAuthentication
from core.caching import ttl_cache
from core.parsers import SafeJSONParser
from core.throttling import ScopedWindowRateThrottle
from proactive.ingest import MAX_BATCH, ingest_events
from proactive.models import EventType
from teams.models import Language
from teams.selectors import categories_by_slug


@ttl_cache(seconds=30)
def _may_send(user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return bool(user and user.has_perm("tickets.submit_inquiries"))


def reset_caches() -> None:
    """Forget the per-process storefront roles (tests; the next request reads them)."""
    _may_send.cache_clear()  # type: ignore[attr-defined]


class CanSendOrderEvents(permissions.BasePermission):
    """Storefront clients (the role that submits inquiries), cached per process for 30 s."""

    message = "This API token may not send order events."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and _may_send(request.user.pk))


class OrderEventSerializer(serializers.Serializer):
    """Documents one event; the view validates events itself (by index, the batch goes on)."""

    id = serializers.CharField(max_length=64, help_text="Unique per storefront client: a replay is ignored.")
    type = serializers.ChoiceField(choices=EventType.choices)
    order_number = serializers.CharField(max_length=64)
    occurred_at = serializers.DateTimeField(help_text="When it happened (ISO 8601 with a time zone).")
    shopper = inline_serializer(
        "OrderEventShopper",
        {
            "external_id": serializers.CharField(max_length=64),
            "name": serializers.CharField(required=False),
            "phone": serializers.CharField(required=False),
            "email": serializers.EmailField(required=False),
            "language": serializers.ChoiceField(choices=Language.choices, required=False),
        },
        required=False,
        help_text="Required on order.placed and order.shipped.",
    )
    category = serializers.SlugField(required=False, help_text="order.placed: the product category.")
    product_title = serializers.CharField(required=False, max_length=200)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    shipping_fee = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    currency = serializers.CharField(required=False, max_length=3)
    promised_delivery_at = serializers.DateTimeField(
        required=False, help_text="order.shipped (required) or order.placed: the promised delivery date."
    )
    carrier = serializers.CharField(required=False, max_length=60, help_text="order.shipped (required).")
    tracking_number = serializers.CharField(required=False, max_length=64, help_text="order.shipped (required).")
    place = serializers.CharField(required=False, max_length=120, help_text="logistics.scan (required).")
    status = serializers.CharField(required=False, max_length=60, help_text="logistics.scan: the carrier's status.")
    reason = serializers.CharField(required=False, max_length=200, help_text="delivery.failed, order.returned.")
    detail = serializers.CharField(required=False, max_length=200, help_text="cold_chain.alert.")
    temperature_c = serializers.FloatField(required=False, help_text="cold_chain.alert.")


class OrderEventBatchSerializer(serializers.Serializer):
    events = OrderEventSerializer(many=True, help_text=f"1 to {MAX_BATCH} events.")


# A serializer cannot have a field named "errors": the receipt is described as a schema.
INGEST_RECEIPT = {
    "type": "object",
    "properties": {
        "accepted": {"type": "integer", "description": "New events stored and applied."},
        "duplicates": {"type": "integer", "description": "Events already received (same id): ignored."},
        "errors": {
            "type": "array",
            "description": "The refused events, by their index in the batch, with field errors.",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "errors": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
    "required": ["accepted", "duplicates", "errors"],
}


class OrderEventsView(APIView):
    authentication_classes = [CachedTokenAuthentication]
    permission_classes = [permissions.IsAuthenticated, CanSendOrderEvents]
    throttle_classes = [ScopedWindowRateThrottle]
    throttle_scope = "order_events"
    parser_classes = [SafeJSONParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        request=OrderEventBatchSerializer,
        responses={
            200: OpenApiResponse(
                INGEST_RECEIPT, description="Accepted (refused events, if any, are listed under errors)."
            ),
            # Two bodies: field errors ({"events": [...]}) for a body that is not a batch of 1 to
            # 1,000 events, or the receipt (accepted 0, the refusals under errors) when every
            # event of a batch was refused.
            400: OpenApiResponse(
                description="Not a batch of 1 to 1,000 events (field errors), or every event was refused "
                "(the receipt: accepted 0, each refusal listed under errors by its index).",
            ),
        },
        examples=[
            OpenApiExample(
                "A shipment and a scan",
                request_only=True,
                value={
                    "events": [
                        {
                            "id": "evt-000123",
                            "type": "order.shipped",
                            "order_number": "JD20261101003",
                            "occurred_at": "2026-12-06T09:00:00+08:00",
                            "shopper": {"external_id": "shopper-003", "phone": "+8613800138003", "language": "zh"},
                            "carrier": "SF Express",
                            "tracking_number": "SF1234567890",
                            "promised_delivery_at": "2026-12-07T18:00:00+08:00",
                        },
                        {
                            "id": "evt-000124",
                            "type": "logistics.scan",
                            "order_number": "JD20261101003",
                            "occurred_at": "2026-12-06T13:20:00+08:00",
                            "place": "Shanghai hub",
                            "status": "sorted",
                        },
                    ]
                },
            )
        ],
        summary="Send a batch of order and delivery events",
        description=(
            "Each event is validated on its own: refused events are reported by index and the good ones in "
            "the batch are still accepted. An event whose id was received before is ignored (idempotent per "
            "event id). Events may arrive out of order: the order's state follows event time."
        ),
    )
    def post(self, request: Request) -> Response:
        payload: Any = request.data
        events = payload.get("events") if isinstance(payload, dict) else None
        if not isinstance(events, list) or not 1 <= len(events) <= MAX_BATCH:
            return Response(
                {"events": [f"Send a list of 1 to {MAX_BATCH} events."]}, status=status.HTTP_400_BAD_REQUEST
            )
        assert isinstance(request.user, User)  # noqa: S101  # IsAuthenticated above
        result = ingest_events(client=request.user, raw_events=events, categories=frozenset(categories_by_slug()))
        body = {"accepted": result.accepted, "duplicates": result.duplicates, "errors": result.errors}
        refused_all = result.errors and not result.accepted and not result.duplicates
        return Response(body, status=status.HTTP_400_BAD_REQUEST if refused_all else status.HTTP_200_OK)
