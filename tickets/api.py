"""Storefront and shopper API for inquiries: validate, call one service, answer."""

import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.auth import CachedTokenAuthentication
from core.caching import ttl_cache
from core.parsers import SafeJSONParser
from core.serializers import SharedFieldsSerializer
from core.throttling import AnonWindowRateThrottle, ScopedWindowRateThrottle
from core.timezones import is_time_zone
from teams.models import Category, Language
from tickets.attachments import AttachmentRefused, PreparedImage, prepare_images
from tickets.models import Channel, Ticket
from tickets.services import IdempotencyConflict, OrderSnapshot, ShopperDetails, open_ticket
from tickets.tracking import token_matches

_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
IDEMPOTENCY_KEY_MAX = 128


def normalize_phone(value: str) -> str:
    compact = _PHONE_SEPARATORS.sub("", value)
    if not _PHONE.match(compact):
        raise serializers.ValidationError(
            "Enter a phone number of 6 to 15 digits, optionally starting with + (e.g. +8613800138000)."
        )
    return compact


class ShopperSerializer(SharedFieldsSerializer):
    external_id = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=Language.choices, required=False, default="")
    time_zone = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    def validate_phone(self, value: str) -> str:
        return normalize_phone(value) if value else value

    def validate_time_zone(self, value: str) -> str:
        if value and not is_time_zone(value):
            raise serializers.ValidationError("Unknown time zone; use an IANA name such as Asia/Shanghai.")
        return value


class OrderSerializer(SharedFieldsSerializer):
    number = serializers.CharField(max_length=64)
    product_title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    product_category = serializers.SlugField(max_length=40, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, allow_blank=True, default="")
    paid = serializers.BooleanField(required=False, allow_null=True, default=None)
    shipped = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate_product_category(self, value: str) -> str:
        if value and value not in category_slugs():
            raise serializers.ValidationError(f"Unknown product category {value!r}.")
        return value


class InquiryCreateSerializer(SharedFieldsSerializer):
    shopper = ShopperSerializer()
    channel = serializers.ChoiceField(choices=Channel.choices)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=settings.INQUIRY_BODY_MAX_LENGTH)
    language = serializers.ChoiceField(choices=Language.choices, required=False, default="")
    order = OrderSerializer(required=False, allow_null=True, default=None)


@extend_schema_field({"type": "string", "format": "binary"})
class PhotoUpload(serializers.FileField):
    """One uploaded photo (a file part of the request, never a URL)."""


class PhotosField(serializers.ListField):
    """Photos as repeated multipart parts named "photos" (JPEG, PNG, WebP, HEIC); checked by
    tickets.attachments.prepare_images, not here (this field only describes them)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            child=PhotoUpload(),
            required=False,
            help_text=(
                f"Up to {settings.ATTACHMENT_MAX_PER_MESSAGE} photos (JPEG, PNG, WebP or HEIC), each up to "
                f"{settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB; the type is read from the content."
            ),
            **kwargs,
        )


class InquiryWithPhotosSerializer(InquiryCreateSerializer):
    """The multipart form of an inquiry: the JSON fields (nested ones named with a dot:
    shopper.external_id, order.number) plus photos. Documents the request; photos are read
    from request.FILES."""

    photos = PhotosField()


PHOTOS_DESCRIPTION = (
    "Send JSON, or multipart/form-data to attach photos: the same fields (nested ones named with a dot, "
    "e.g. shopper.external_id, order.number) and one part named photos per photo. A refused photo "
    "(not an image we accept, too large, too many) is a 400 naming the file and the reason under "
    '"photos", and nothing is written.'
)


def photos_of(request: Request) -> list[PreparedImage]:
    """The request's photos, checked and cleaned; raises AttachmentRefused (nothing written)."""
    return prepare_images(request.FILES.getlist("photos")) if request.FILES else []


class InquiryReceiptSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.CharField()
    tracking_token = serializers.CharField()
    joined = serializers.BooleanField(
        required=False,
        help_text="Present and true when the inquiry joined the ticket we opened about its order before the "
        "shopper wrote (a proactive ticket): id is that ticket's.",
    )


class PublicMessageSerializer(serializers.Serializer[Any]):
    author_kind = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class InquiryStatusSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.CharField()
    channel = serializers.CharField()
    subject = serializers.CharField()
    category = serializers.CharField(source="category.slug", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    messages = serializers.SerializerMethodField()

    def get_messages(self, ticket: Ticket) -> list[dict[str, Any]]:
        public = [m for m in ticket.messages.all() if not m.is_internal]
        return PublicMessageSerializer(public, many=True).data  # type: ignore[return-value]  # many=True: a list; the stubs say dict


@ttl_cache(seconds=30)
def category_slugs() -> frozenset[str]:
    return frozenset(Category.objects.values_list("slug", flat=True))


@ttl_cache(seconds=30)
def _may_submit(user_id: int) -> bool:
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return bool(user and user.has_perm("tickets.submit_inquiries"))


def reset_intake_caches() -> None:
    """Forget the per-process category list and storefront roles (the next request reads them)."""
    category_slugs.cache_clear()  # type: ignore[attr-defined]  # added by ttl_cache, which keeps the function type
    _may_submit.cache_clear()  # type: ignore[attr-defined]  # added by ttl_cache, which keeps the function type


class CanSubmitInquiries(permissions.BasePermission):
    """A storefront client's role, cached per process for 30 s (a revoked role stops within that)."""

    message = "This API token may not submit inquiries."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and _may_submit(request.user.pk))


def _created_body(ticket: Ticket, *, joined: bool = False) -> dict[str, Any]:
    body = {"id": ticket.id, "status": ticket.status, "tracking_token": ticket.tracking_token}
    return {**body, "joined": True} if joined else body


class InquiryCreateView(APIView):
    # Storefront clients only (token); the busiest endpoint, so the token's user is remembered briefly.
    authentication_classes = [CachedTokenAuthentication, SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated, CanSubmitInquiries]
    throttle_classes = [ScopedWindowRateThrottle]
    throttle_scope = "intake"
    # JSON in (multipart when it carries photos), JSON out: no negotiation among renderers on
    # the busiest endpoint. JSON through the parser that refuses pathological nesting.
    parser_classes = [SafeJSONParser, MultiPartParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        request={"application/json": InquiryCreateSerializer, "multipart/form-data": InquiryWithPhotosSerializer},
        description=PHOTOS_DESCRIPTION,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description="Retries with the same key return the first ticket instead of a new one.",
            )
        ],
        responses={
            201: InquiryReceiptSerializer,
            200: OpenApiResponse(InquiryReceiptSerializer, description="A replay: the first ticket's receipt."),
            400: OpenApiResponse(description='Field errors, or a refused photo under "photos"; nothing written.'),
            422: OpenApiResponse(description="This Idempotency-Key was already used for a different inquiry."),
        },
        summary="Open a shopper inquiry",
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
            return Response(
                {"Idempotency-Key": [f"Ensure this header has no more than {IDEMPOTENCY_KEY_MAX} characters."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        serializer = InquiryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            photos = photos_of(request)
        except AttachmentRefused as exc:
            return Response({"photos": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        assert isinstance(request.user, User)  # noqa: S101  # IsAuthenticated guarantees a signed-in client
        try:
            result = open_ticket(
                shopper=ShopperDetails(**data["shopper"]),
                channel=data["channel"],
                subject=data["subject"],
                body=data["body"],
                language=data["language"],
                order=OrderSnapshot(**data["order"]) if data["order"] else None,
                client=request.user,
                idempotency_key=key,
                photos=photos,
            )
        except IdempotencyConflict as exc:
            return Response({"Idempotency-Key": [str(exc)]}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        body = _created_body(result.ticket, joined=result.joined)
        if result.created:
            return Response(body, status=status.HTTP_201_CREATED)
        return Response(body, status=status.HTTP_200_OK, headers={"Idempotent-Replayed": "true"})


class ShopperRateThrottle(AnonWindowRateThrottle):
    scope = "shopper"


def get_ticket_for_shopper(ticket_id: int, token: str) -> Ticket:
    """The ticket when the tracking token matches; 404 otherwise. A wrong token, a token that is
    not even text a token could be (non-ASCII), and an id that does not exist get the same answer,
    so the answer never tells which ids exist. A caller that authorized the shopper another way
    (a signed session) reads the ticket by id and calls the services directly."""
    ticket = Ticket.objects.select_related("category").prefetch_related("messages").filter(pk=ticket_id).first()
    found: tuple[int | None, str | None] = (ticket.pk, ticket.tracking_nonce) if ticket is not None else (None, None)
    matches = token_matches(*found, token or "")  # compared for a missing id too: same time, same answer
    if ticket is None or not matches:
        raise NotFound("No inquiry matches this id and tracking token.")
    return ticket


TRACKING_TOKEN_PARAMETER = OpenApiParameter(
    "token",
    location=OpenApiParameter.QUERY,
    required=False,
    description="The shopper tracking token (or send it in the X-Tracking-Token header).",
)


def tracking_token_from(request: Request) -> str:
    return request.headers.get("X-Tracking-Token") or request.query_params.get("token", "")


class InquiryStatusView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ShopperRateThrottle]

    @extend_schema(
        parameters=[TRACKING_TOKEN_PARAMETER],
        responses=InquiryStatusSerializer,
        summary="Inquiry status for the shopper",
    )
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = get_ticket_for_shopper(ticket_id, tracking_token_from(request))
        return Response(InquiryStatusSerializer(ticket).data)
