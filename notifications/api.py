"""The inbound email webhook: a mail provider posts a shopper's reply to a notification email.

Two shapes are accepted (see the README):
- Mailgun-style form fields (application/x-www-form-urlencoded or multipart/form-data):
  `recipient`, `sender` (or `from`), `stripped-text` (preferred) or `body-plain`, `Message-Id`,
  and Mailgun's signature fields `timestamp`, `token`, `signature` =
  hex HMAC-SHA256(INBOUND_EMAIL_SECRET, timestamp + token).
- JSON: {"recipient", "sender", "text", "message_id", "stripped": false}, signed in the header
  `X-CX-Signature: t=<unix time>,v1=<hex HMAC-SHA256(INBOUND_EMAIL_SECRET, "<t>." + raw body)>`.
Both signatures must be younger than INBOUND_EMAIL_MAX_AGE_SECONDS.
"""

import hashlib
import hmac
import json
import time
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.services.inbound import InboundEmailEmpty, ReplyAddressInvalid, receive_reply_email
from tickets.models import Ticket


class InboundEmailSerializer(serializers.Serializer):
    recipient = serializers.CharField(max_length=2000, help_text="The To address(es): our signed reply address.")
    sender = serializers.CharField(max_length=254, required=False, allow_blank=True)
    text = serializers.CharField(max_length=200_000, allow_blank=True, trim_whitespace=False)
    message_id = serializers.CharField(max_length=255)
    stripped = serializers.BooleanField(
        default=False, help_text="True when the text is already without the quoted conversation."
    )


class InboundEmailResultSerializer(serializers.Serializer):
    ticket_id = serializers.IntegerField()
    message_id = serializers.IntegerField()
    duplicate = serializers.BooleanField()


def _fresh(timestamp: str) -> bool:
    try:
        return abs(time.time() - int(timestamp)) <= settings.INBOUND_EMAIL_MAX_AGE_SECONDS
    except (TypeError, ValueError):
        return False


def _sign(message: str) -> str:
    return hmac.new(settings.INBOUND_EMAIL_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def _check_json_signature(header: str, raw: bytes) -> None:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    try:
        expected = _sign(f"{timestamp}." + raw.decode())
    except UnicodeDecodeError:
        expected = ""
    if not (_fresh(timestamp) and expected and hmac.compare_digest(given, expected)):
        raise PermissionDenied("Bad or expired X-CX-Signature.")


def _check_form_signature(data: Any) -> None:
    timestamp, token, given = (str(data.get(k, "")) for k in ("timestamp", "token", "signature"))
    if not (_fresh(timestamp) and token and hmac.compare_digest(given, _sign(timestamp + token))):
        raise PermissionDenied("Bad or expired signature (timestamp, token, signature).")


def _form_fields(data: Any) -> dict[str, Any]:
    """Mailgun's field names mapped to ours."""
    stripped = data.get("stripped-text")
    return {
        "recipient": data.get("recipient", "") or data.get("To", ""),
        "sender": data.get("sender", "") or data.get("from", ""),
        "text": stripped if stripped is not None else data.get("body-plain", ""),
        "message_id": data.get("Message-Id", "") or data.get("message-id", ""),
        "stripped": stripped is not None,
    }


class InboundEmailView(APIView):
    """Authenticated by the provider's HMAC signature, not by a user or token."""

    authentication_classes: list[type] = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        request={"application/json": InboundEmailSerializer, "application/x-www-form-urlencoded": None},
        parameters=[
            OpenApiParameter(
                "X-CX-Signature",
                str,
                location=OpenApiParameter.HEADER,
                required=False,
                description="JSON payloads: t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.' + body>.",
            )
        ],
        responses={
            201: InboundEmailResultSerializer,
            200: OpenApiResponse(InboundEmailResultSerializer, description="Message-Id seen before: nothing new."),
            400: OpenApiResponse(description="Missing fields, not our reply address, or no text of its own."),
            403: OpenApiResponse(description="Bad or expired signature, or inbound email not configured."),
            404: OpenApiResponse(description="The reply address names no ticket."),
            409: OpenApiResponse(description="The inquiry is closed."),
        },
        summary="A shopper's email reply (mail provider webhook)",
    )
    def post(self, request: Request) -> Response:
        if not settings.INBOUND_EMAIL_SECRET:
            raise PermissionDenied("Inbound email is not configured (INBOUND_EMAIL_SECRET).")
        raw = request.body  # read before parsing: the JSON signature covers the exact bytes
        if (request.content_type or "").startswith("application/json"):
            _check_json_signature(request.headers.get("X-CX-Signature", ""), raw)
            try:
                payload = json.loads(raw)
            except ValueError as exc:
                raise ValidationError({"non_field_errors": ["The body is not valid JSON."]}) from exc
            if not isinstance(payload, dict):
                raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
        else:
            _check_form_signature(request.data)
            payload = _form_fields(request.data)
        fields = InboundEmailSerializer(data=payload)
        fields.is_valid(raise_exception=True)
        data = fields.validated_data
        if not data["message_id"].strip().strip("<>").strip():
            raise ValidationError({"message_id": ["This field may not be blank."]})
        try:
            result = receive_reply_email(
                recipient=data["recipient"],
                sender=data.get("sender", ""),
                text=data["text"],
                message_id=data["message_id"],
                stripped=data["stripped"],
            )
        except ReplyAddressInvalid as exc:
            raise ValidationError({"recipient": [str(exc)]}) from exc
        except InboundEmailEmpty as exc:
            raise ValidationError({"text": [str(exc)]}) from exc
        except Ticket.DoesNotExist as exc:
            raise NotFound("The reply address names no inquiry.") from exc
        body = {"ticket_id": result.message.ticket_id, "message_id": result.message.pk, "duplicate": not result.created}
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)
