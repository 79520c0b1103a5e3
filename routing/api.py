"""API for shoppers (handoff, messages), agents (work a ticket, set status) and supervisors."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from routing import services
from routing.selectors import is_supervisor, tickets_visible_to
from teams.models import AgentProfile, AgentStatus, Category, SpecialistQueue
from tickets.api import (
    TRACKING_TOKEN_PARAMETER,
    InquiryStatusSerializer,
    PhotosField,
    ShopperRateThrottle,
    get_ticket_for_shopper,
    photos_of,
    tracking_token_from,
)
from tickets.attachments import AttachmentRefused
from tickets.models import Ticket

# --- Shoppers (tracking token) ----------------------------------------------------------------


class ShopperView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ShopperRateThrottle]

    def shopper_ticket(self, request: Request, ticket_id: int) -> Ticket:
        return get_ticket_for_shopper(ticket_id, tracking_token_from(request))


class HandoffView(ShopperView):
    @extend_schema(
        request=None,
        parameters=[TRACKING_TOKEN_PARAMETER],
        responses=InquiryStatusSerializer,
        summary="Talk to a person",
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = self.shopper_ticket(request, ticket_id)
        ticket = services.request_handoff(ticket_id=ticket.id)
        return Response(InquiryStatusSerializer(ticket).data)


class BodySerializer(serializers.Serializer[Any]):
    body = serializers.CharField(max_length=settings.INQUIRY_BODY_MAX_LENGTH)


class ShopperMessageSerializer(serializers.Serializer[Any]):
    """A shopper's message: text, photos (multipart), or both."""

    body = serializers.CharField(max_length=settings.INQUIRY_BODY_MAX_LENGTH, required=False, allow_blank=True)
    photos = PhotosField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs.get("body") or "").strip() and not self.context.get("has_photos"):
            raise serializers.ValidationError({"body": ["Write a message or attach a photo."]})
        return attrs


class ShopperMessageView(ShopperView):
    @extend_schema(
        request={"application/json": BodySerializer, "multipart/form-data": ShopperMessageSerializer},
        parameters=[TRACKING_TOKEN_PARAMETER],
        responses={
            201: None,
            400: OpenApiResponse(description='No text and no photo, or a refused photo under "photos".'),
        },
        summary="Shopper writes on their inquiry",
        description=(
            "JSON with the text, or multipart/form-data with the text (optional) and one part named "
            "photos per photo. A refused photo is a 400 naming the file and the reason, and nothing is written."
        ),
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = self.shopper_ticket(request, ticket_id)
        data = ShopperMessageSerializer(data=request.data, context={"has_photos": bool(request.FILES)})
        data.is_valid(raise_exception=True)
        try:
            photos = photos_of(request)
        except AttachmentRefused as exc:
            return Response({"photos": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        services.add_shopper_message(
            ticket_id=ticket.id, body=(data.validated_data.get("body") or "").strip(), photos=photos
        )
        return Response(status=status.HTTP_201_CREATED)


class CancelInquiryView(ShopperView):
    @extend_schema(
        request=None,
        parameters=[TRACKING_TOKEN_PARAMETER],
        responses={200: InquiryStatusSerializer, 409: None},
        summary="Shopper withdraws the inquiry",
        description=(
            "Before any agent took it the inquiry is closed as abandoned; back in line after an earlier "
            "assignment, as cancelled. While an agent holds it (or once resolved) the answer is 409, and "
            "also while an after-sales request on it waits for a specialist's decision (it stays open "
            "for that decision; the message says so). "
            "Repeating a successful cancel returns the same closed inquiry."
        ),
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = self.shopper_ticket(request, ticket_id)
        services.cancel_inquiry(ticket_id=ticket.id)
        return Response(InquiryStatusSerializer(self.shopper_ticket(request, ticket_id)).data)


# --- Agents and supervisors --------------------------------------------------------------------


class CanWorkTickets(permissions.BasePermission):
    message = "Only agents and supervisors may do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.has_perm("tickets.work_tickets"))


def user_of(request: Request) -> User:
    assert isinstance(request.user, User)  # noqa: S101  # IsAuthenticated guarantees a signed-in user
    return request.user


class AgentView(APIView):
    permission_classes = [permissions.IsAuthenticated, CanWorkTickets]

    def visible_ticket(self, request: Request, ticket_id: int) -> Ticket:
        """404 for a ticket the caller may not see: never reveal that it exists."""
        return get_object_or_404(tickets_visible_to(user_of(request)), pk=ticket_id)

    def own_ticket(self, request: Request, ticket_id: int) -> Ticket:
        ticket = self.visible_ticket(request, ticket_id)
        if ticket.assigned_agent_id != user_of(request).id and not is_supervisor(user_of(request)):
            raise NotFound("No ticket of yours has this id.")
        return ticket


class TicketSummarySerializer(serializers.ModelSerializer[Ticket]):
    queue: serializers.SlugRelatedField[SpecialistQueue] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    category: serializers.SlugRelatedField[Category] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    assigned_agent: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "status",
            "queue",
            "category",
            "intent",
            "signals",
            "priority",
            "language",
            "subject",
            "body",
            "assigned_agent",
            "needs_category",
            "created_at",
            "queued_at",
            "first_assigned_at",
            "first_response_at",
            "resolved_at",
            "handoff_requested_at",
            "handoff_assigned_at",
        ]


class TicketListView(AgentView):
    @extend_schema(responses=TicketSummarySerializer(many=True), summary="My tickets and those waiting in my queues")
    def get(self, request: Request) -> Response:
        tickets = (
            tickets_visible_to(user_of(request)).exclude(status="closed").order_by("-priority", "created_at")[:200]
        )
        return Response(TicketSummarySerializer(tickets, many=True).data)


class TicketDetailView(AgentView):
    @extend_schema(responses=TicketSummarySerializer)
    def get(self, request: Request, ticket_id: int) -> Response:
        return Response(TicketSummarySerializer(self.visible_ticket(request, ticket_id)).data)


def _ticket_response(ticket_id: int) -> Response:
    ticket = Ticket.objects.select_related("queue", "category", "assigned_agent").get(pk=ticket_id)
    return Response(TicketSummarySerializer(ticket).data)


class ReplyView(AgentView):
    @extend_schema(request=BodySerializer, responses=TicketSummarySerializer, summary="Reply to the shopper")
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = self.own_ticket(request, ticket_id)
        data = BodySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.reply_to_shopper(ticket_id=ticket.id, by=user_of(request), body=data.validated_data["body"])
        return _ticket_response(ticket.id)


class NoteView(AgentView):
    @extend_schema(request=BodySerializer, responses=TicketSummarySerializer, summary="Add an internal note")
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = self.visible_ticket(request, ticket_id)
        data = BodySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.add_internal_note(ticket_id=ticket.id, by=user_of(request), body=data.validated_data["body"])
        return _ticket_response(ticket.id)


class ResolveView(AgentView):
    @extend_schema(request=None, responses=TicketSummarySerializer, summary="Resolve (frees capacity)")
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = self.own_ticket(request, ticket_id)
        services.resolve_ticket(ticket_id=ticket.id, by=user_of(request))
        return _ticket_response(ticket.id)


@extend_schema_field(OpenApiTypes.STR)
class AgentUsernameField(serializers.SlugRelatedField[AgentProfile]):
    """An agent named by username (a lookup through the user: the schema says it is a string)."""


class TransferSerializer(serializers.Serializer[Any]):
    queue = serializers.SlugRelatedField(slug_field="slug", queryset=SpecialistQueue.objects.all(), required=False)
    agent = AgentUsernameField(
        slug_field="user__username", queryset=AgentProfile.objects.select_related("user"), required=False
    )
    note = serializers.CharField(max_length=2000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("queue" in attrs) == ("agent" in attrs):
            raise serializers.ValidationError({"non_field_errors": ["Give exactly one of queue or agent."]})
        return attrs


class TransferView(AgentView):
    @extend_schema(
        request=TransferSerializer, responses=TicketSummarySerializer, summary="Transfer to a queue or an agent"
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = self.own_ticket(request, ticket_id)
        data = TransferSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.transfer_ticket(
            ticket_id=ticket.id,
            by=user_of(request),
            note=data.validated_data["note"],
            to_queue=data.validated_data.get("queue"),
            to_agent=data.validated_data.get("agent"),
        )
        return _ticket_response(ticket.id)


class NoteOnlySerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=2000)


class EscalateView(AgentView):
    @extend_schema(request=NoteOnlySerializer, responses=TicketSummarySerializer, summary="Escalate to supervisors")
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = self.own_ticket(request, ticket_id)
        data = NoteOnlySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.escalate_ticket(ticket_id=ticket.id, by=user_of(request), note=data.validated_data["note"])
        return _ticket_response(ticket.id)


class RecategorizeSerializer(serializers.Serializer[Any]):
    category = serializers.SlugRelatedField(slug_field="slug", queryset=Category.objects.select_related("queue"))


class RecategorizeView(AgentView):
    @extend_schema(
        request=RecategorizeSerializer,
        responses=TicketSummarySerializer,
        summary="Set the category (a label for the classifier)",
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = self.visible_ticket(request, ticket_id)
        data = RecategorizeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.recategorize_ticket(ticket_id=ticket.id, category=data.validated_data["category"], by=user_of(request))
        return _ticket_response(ticket.id)


class StatusSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=AgentStatus.choices)


class AgentStatusResponse(serializers.Serializer[Any]):
    username = serializers.CharField(source="user.username")
    status = serializers.CharField()
    status_since = serializers.DateTimeField()
    active_ticket_count = serializers.IntegerField()
    capacity = serializers.IntegerField()


def _set_status(request: Request, agent: AgentProfile) -> Response:
    data = StatusSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    agent = services.set_agent_status(agent=agent, status=data.validated_data["status"])
    return Response(AgentStatusResponse(agent).data)


class MyStatusView(AgentView):
    @extend_schema(request=StatusSerializer, responses=AgentStatusResponse, summary="Set my status")
    def post(self, request: Request) -> Response:
        agent = AgentProfile.objects.filter(user=user_of(request)).select_related("user").first()
        if agent is None:
            raise NotFound("You have no agent profile.")
        return _set_status(request, agent)


class IsSupervisor(permissions.BasePermission):
    message = "Only supervisors may do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.user, User) and is_supervisor(request.user)


class AgentStatusView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsSupervisor]

    @extend_schema(
        request=StatusSerializer, responses=AgentStatusResponse, summary="Set an agent's status (supervisors)"
    )
    def post(self, request: Request, username: str) -> Response:
        agent = get_object_or_404(AgentProfile.objects.select_related("user"), user__username=username)
        return _set_status(request, agent)
