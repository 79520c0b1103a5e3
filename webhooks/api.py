"""Storefront API for its webhook endpoints: register, change, list deliveries, resend.

A client sees and changes only its own endpoints (others' are 404). Bad input is a 400 with
field errors; nothing is half-written.
"""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webhooks import services
from webhooks.catalog import EVENT_TYPES
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

DELIVERY_PAGE = 100


class CanSubmitInquiries(permissions.BasePermission):
    """Storefront API clients (the role that submits inquiries) own webhook endpoints."""

    message = "This API token may not manage webhooks."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("tickets.submit_inquiries"))


class EndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=64),
        allow_empty=False,
        help_text=f'Any of: {", ".join(EVENT_TYPES)}; or ["*"] for every type, including future ones.',
    )
    secret = serializers.CharField(
        required=False,
        min_length=16,
        max_length=100,
        help_text="Signs every request (HMAC-SHA256). Generated when not given.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "event_types",
            "description",
            "is_active",
            "secret",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "last_success_at",
            "last_failure_at",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "last_success_at",
            "last_failure_at",
            "created_at",
        ]

    def validate_url(self, value: str) -> str:
        if not value.lower().startswith(("https://", "http://")):
            raise serializers.ValidationError("Give an http(s) URL.")
        return value

    def validate_event_types(self, value: list[str]) -> list[str]:
        from django.core.exceptions import ValidationError

        try:
            return services.clean_event_types(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["event_types"]) from exc


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="event.uuid")
    type = serializers.CharField(source="event.type")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "type",
            "ticket_id",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "delivered_at",
        ]


class ResendSerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    event_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=1000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        ranged = "since" in attrs and "until" in attrs
        if ranged == bool(attrs.get("event_ids")):
            raise serializers.ValidationError("Give either event_ids, or both since and until.")
        if ranged and attrs["until"] <= attrs["since"]:
            raise serializers.ValidationError({"until": ["Must come after since."]})
        return attrs


def _own(request: Request) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(client_id=request.user.pk)


class EndpointListView(APIView):
    permission_classes = [CanSubmitInquiries]

    @extend_schema(responses=EndpointSerializer(many=True), summary="This client's webhook endpoints")
    def get(self, request: Request) -> Response:
        return Response(EndpointSerializer(_own(request).order_by("id"), many=True).data)

    @extend_schema(request=EndpointSerializer, responses={201: EndpointSerializer}, summary="Register an endpoint")
    def post(self, request: Request) -> Response:
        serializer = EndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint = services.create_endpoint(
            client=request.user,  # type: ignore[arg-type]
            url=data["url"],
            event_types=data["event_types"],
            description=data.get("description", ""),
            secret=data.get("secret", ""),
        )
        return Response(EndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailView(APIView):
    permission_classes = [CanSubmitInquiries]

    @extend_schema(responses=EndpointSerializer)
    def get(self, request: Request, endpoint_id: int) -> Response:
        return Response(EndpointSerializer(get_object_or_404(_own(request), pk=endpoint_id)).data)

    @extend_schema(
        request=EndpointSerializer,
        responses=EndpointSerializer,
        summary="Change an endpoint; is_active=true enables one that was disabled for failing",
    )
    def patch(self, request: Request, endpoint_id: int) -> Response:
        endpoint = get_object_or_404(_own(request), pk=endpoint_id)
        serializer = EndpointSerializer(endpoint, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint = services.update_endpoint(
            endpoint=endpoint,
            url=data.get("url"),
            event_types=data.get("event_types"),
            description=data.get("description"),
            is_active=data.get("is_active"),
        )
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, endpoint_id: int) -> Response:
        endpoint = get_object_or_404(_own(request), pk=endpoint_id)
        services.delete_endpoint(endpoint_id=endpoint.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListView(APIView):
    permission_classes = [CanSubmitInquiries]

    @extend_schema(
        responses=DeliverySerializer(many=True), summary="The endpoint's latest deliveries (?status=failed|pending)"
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = get_object_or_404(_own(request), pk=endpoint_id)
        rows = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event").order_by("-id")
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in DeliveryStatus.values:
                return Response({"status": [f"One of: {', '.join(DeliveryStatus.values)}."]}, status=400)
            rows = rows.filter(status=wanted)
        return Response(DeliverySerializer(rows[:DELIVERY_PAGE], many=True).data)


class ResendView(APIView):
    permission_classes = [CanSubmitInquiries]

    @extend_schema(request=ResendSerializer, responses={202: None}, summary="Send events again (a range or ids)")
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = get_object_or_404(_own(request), pk=endpoint_id)
        serializer = ResendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("event_ids"):
            ids = WebhookDelivery.objects.filter(endpoint=endpoint, event__uuid__in=data["event_ids"]).values_list(
                "pk", flat=True
            )
            count = services.resend_deliveries(delivery_ids=list(ids))
        else:
            count = services.resend_deliveries(endpoint_id=endpoint.pk, since=data["since"], until=data["until"])
        return Response({"queued": count}, status=status.HTTP_202_ACCEPTED)
