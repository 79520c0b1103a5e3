"""Shopper API for callbacks: free slots, book one, list one's callbacks (tracking token)."""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from callbacks import services
from callbacks.links import shopper_link
from callbacks.models import Callback
from callbacks.rendering import who_calls, zone
from callbacks.selectors import callbacks_of_ticket
from routing.api import ShopperView
from teams.models import AgentProfile
from tickets.api import TRACKING_TOKEN_PARAMETER
from tickets.models import Ticket

MAX_DAYS = 14
# A "from" date further out than this is a mistake, not a plan (and date arithmetic near the
# year 9999 overflows).
MAX_FROM_DAYS_AHEAD = 366


class SlotQuerySerializer(serializers.Serializer):
    # "from" is a Python keyword: the field is named in to_internal_value's data mapping.
    from_ = serializers.DateField(required=False, help_text="First local date (YYYY-MM-DD); default today.")
    days = serializers.IntegerField(required=False, default=7, min_value=1, max_value=MAX_DAYS)

    def validate_from_(self, value: date) -> date:
        today = timezone.now().date()
        if not today - timedelta(days=1) <= value <= today + timedelta(days=MAX_FROM_DAYS_AHEAD):
            raise serializers.ValidationError(
                f"Choose a date from today to {MAX_FROM_DAYS_AHEAD} days ahead (callbacks are booked "
                "at most weeks ahead)."
            )
        return value

    def to_internal_value(self, data: Any) -> Any:
        data = dict(data.items())
        if "from" in data:
            data["from_"] = data.pop("from")
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict) and "from_" in detail:
                detail["from"] = detail.pop("from_")
            raise serializers.ValidationError(detail) from exc


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="UTC")
    end = serializers.DateTimeField(help_text="UTC")
    start_local = serializers.CharField(help_text="In the shopper's time zone (ISO 8601 with offset).")
    end_local = serializers.CharField()
    remaining = serializers.IntegerField(help_text="Callbacks this slot still takes.")


class SlotListSerializer(serializers.Serializer):
    queue = serializers.CharField()
    time_zone = serializers.CharField(help_text="The shopper's time zone, used for the *_local fields.")
    slots = SlotSerializer(many=True)


class BookingSerializer(serializers.Serializer):
    slot_start = serializers.DateTimeField(help_text="The start of a slot from callback-slots (any offset).")
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text="Default: the shopper's phone."
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate_slot_start(self, value: datetime) -> datetime:
        # A time without an offset is ambiguous for a shopper abroad: refuse it rather than guess UTC.
        raw = self.initial_data.get("slot_start") if hasattr(self.initial_data, "get") else None
        parsed = parse_datetime(raw) if isinstance(raw, str) else None
        if parsed is not None and parsed.tzinfo is None:
            raise serializers.ValidationError(
                "Give the time with its offset, as callback-slots lists it (e.g. 2026-11-26T02:00:00Z)."
            )
        return value


class CallbackSerializer(serializers.ModelSerializer):
    scheduled_local = serializers.SerializerMethodField()
    window_end_local = serializers.SerializerMethodField()
    who = serializers.SerializerMethodField()
    link = serializers.SerializerMethodField()

    class Meta:
        model = Callback
        fields = [
            "id",
            "status",
            "scheduled_at",
            "window_end",
            "scheduled_local",
            "window_end_local",
            "phone",
            "note",
            "who",
            "confirmed_at",
            "link",
        ]

    def _tz(self, callback: Callback) -> ZoneInfo:
        return zone(callback.ticket.shopper.time_zone)

    def get_scheduled_local(self, callback: Callback) -> str:
        return callback.scheduled_at.astimezone(self._tz(callback)).isoformat()

    def get_window_end_local(self, callback: Callback) -> str | None:
        return callback.window_end.astimezone(self._tz(callback)).isoformat() if callback.window_end else None

    def get_who(self, callback: Callback) -> str:
        return str(who_calls(callback))

    def get_link(self, callback: Callback) -> str:
        return shopper_link(callback.pk)


def _ticket(view: ShopperView, request: Request, ticket_id: int) -> Ticket:
    checked = view.shopper_ticket(request, ticket_id)  # the tracking-token check (404 when wrong)
    return Ticket.objects.select_related("queue", "shopper").get(pk=checked.pk)


def _is_agent(user_id: int | None) -> bool:
    if not user_id:
        return False
    return AgentProfile.objects.filter(user_id=user_id).exists()


def _conflict(exc: Exception) -> Response:
    return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)


class CallbackSlotsView(ShopperView):
    @extend_schema(
        parameters=[
            TRACKING_TOKEN_PARAMETER,
            OpenApiParameter("from", date, required=False, description="First local date; default today."),
            OpenApiParameter("days", int, required=False, description=f"1 to {MAX_DAYS}; default 7."),
        ],
        responses={200: SlotListSerializer, 409: None},
        summary="Free callback slots for this inquiry",
    )
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket(self, request, ticket_id)
        query = SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if ticket.queue is None:
            return _conflict(services.CallbackError("This inquiry is not in a specialist queue yet."))
        tz = zone(ticket.shopper.time_zone)
        slots = services.available_slots(
            queue=ticket.queue,
            now=timezone.now(),
            from_day=query.validated_data.get("from_"),
            days=query.validated_data["days"],
        )
        return Response(
            {
                "queue": ticket.queue.slug,
                "time_zone": ticket.shopper.time_zone,
                "slots": [
                    {
                        "start": slot.start,
                        "end": slot.end,
                        "start_local": slot.start.astimezone(tz).isoformat(),
                        "end_local": slot.end.astimezone(tz).isoformat(),
                        "remaining": slot.remaining,
                    }
                    for slot in slots
                ],
            }
        )


class InquiryCallbacksView(ShopperView):
    @extend_schema(
        parameters=[TRACKING_TOKEN_PARAMETER],
        responses=CallbackSerializer(many=True),
        summary="The shopper's callbacks on this inquiry",
    )
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket(self, request, ticket_id)
        return Response(CallbackSerializer(callbacks_of_ticket(ticket.id), many=True).data)

    @extend_schema(
        request=BookingSerializer,
        parameters=[TRACKING_TOKEN_PARAMETER],
        responses={201: CallbackSerializer, 400: None, 409: None},
        summary="Book a callback in one of the free slots",
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket(self, request, ticket_id)
        data = BookingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if ticket.queue is None:
            return _conflict(services.CallbackError("This inquiry is not in a specialist queue yet."))
        start = data.validated_data["slot_start"]
        now = timezone.now()
        slot = next(
            (
                s
                for s in services.available_slots(queue=ticket.queue, now=now, include_full=True, days=MAX_DAYS + 1)
                if s.start == start
            ),
            None,
        )
        phone = data.validated_data.get("phone") or ticket.shopper.phone
        if not phone:
            return Response({"phone": ["Give the number to call."]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            if slot is None:
                # Not a slot start: say why the time is not bookable (past, closed, holiday, full)
                # or, when it is inside the hours, that a slot start is expected.
                services.check_bookable(queue=ticket.queue, scheduled_at=start, now=now, by_shopper=True)
                raise DjangoValidationError({"slot_start": ["Choose the start of one of the offered slots."]})
            callback = services.book_callback(
                ticket=ticket,
                scheduled_at=start,
                window_end=slot.end,
                phone=phone,
                # The agent who has the inquiry calls back; the queue when there is none.
                owner=ticket.assigned_agent if _is_agent(ticket.assigned_agent_id) else None,
                note=data.validated_data["note"],
                now=now,
            )
        except DjangoValidationError as exc:
            errors = dict(exc.message_dict) if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            if "scheduled_at" in errors:
                errors["slot_start"] = errors.pop("scheduled_at")
            errors.pop("window_end", None)
            if not errors:
                errors = {"slot_start": ["Choose the start of one of the offered slots."]}
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        except services.CallbackError as exc:
            return _conflict(exc)
        callback = callbacks_of_ticket(ticket.id).get(pk=callback.pk)
        return Response(CallbackSerializer(callback).data, status=status.HTTP_201_CREATED)
