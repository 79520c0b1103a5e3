"""The shopper's rating of a resolved inquiry: POST /api/v1/inquiries/{id}/rating/.

The shopper proves it is their inquiry with the tracking token (as on the other shopper
endpoints); a storefront may instead relay the rating with its API token for an inquiry it
submitted. Validate, call rate_ticket, answer.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.auth import CachedTokenAuthentication
from core.parsers import SafeJSONParser
from core.throttling import ScopedWindowRateThrottle
from satisfaction.models import COMMENT_MAX_LENGTH, Rating
from satisfaction.services import rate_ticket
from tickets.api import TRACKING_TOKEN_PARAMETER, CanSubmitInquiries, ShopperRateThrottle, tracking_token_from
from tickets.models import Ticket
from tickets.tracking import token_matches


class RatingRequestSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5, help_text="1 (very unhappy) to 5 (very happy).")
    comment = serializers.CharField(max_length=COMMENT_MAX_LENGTH, required=False, allow_blank=True, default="")


class RatingSerializer(serializers.ModelSerializer):
    ticket_id = serializers.IntegerField()

    class Meta:
        model = Rating
        fields = ["id", "ticket_id", "score", "comment", "resolved_at", "created_at"]


def _ticket_of_caller(request: Request, view: APIView, ticket_id: int) -> Ticket:
    """The ticket when the caller may rate it; 404 otherwise (never reveal that it exists)."""
    ticket = Ticket.objects.only("id", "tracking_nonce", "client_id").filter(pk=ticket_id).first()
    if ticket is not None:
        user = request.user
        if (
            ticket.client_id is not None
            and ticket.client_id == user.pk
            and CanSubmitInquiries().has_permission(request, view)
        ):
            return ticket
    # A mismatched (or non-ASCII) token costs and answers the same as an id that does not exist.
    found: tuple[int | None, str | None] = (ticket.pk, ticket.tracking_nonce) if ticket is not None else (None, None)
    if token_matches(*found, tracking_token_from(request)):
        return ticket  # type: ignore[return-value]  # token_matches is False without a ticket
    raise NotFound("No inquiry matches this id and tracking token.")


class RatingView(APIView):
    # No session: a shopper's browser holds no console session, and no CSRF applies to a token call.
    authentication_classes = [CachedTokenAuthentication]
    permission_classes = [permissions.AllowAny]
    # Shoppers per address; a storefront per API token, like its intake.
    throttle_classes = [ShopperRateThrottle, ScopedWindowRateThrottle]
    throttle_scope = "intake"
    parser_classes = [SafeJSONParser, FormParser]

    @extend_schema(
        request=RatingRequestSerializer,
        parameters=[TRACKING_TOKEN_PARAMETER],
        responses={
            201: RatingSerializer,
            200: OpenApiResponse(RatingSerializer, description="The same rating was sent again: the first one."),
            400: OpenApiResponse(description="Field errors: score not 1–5, comment too long."),
            404: OpenApiResponse(description="No inquiry with this id and tracking token (or storefront token)."),
            409: OpenApiResponse(
                description="Not resolved (or resolved too long ago), or this resolution already has another rating."
            ),
        },
        examples=[OpenApiExample("Happy", value={"score": 5, "comment": "换得很快，谢谢！"}, request_only=True)],
        summary="Shopper rates the resolution of their inquiry",
        description=(
            "One rating per resolution: a reopened inquiry that is resolved again may be rated again. "
            "Scores of 1–2 are flagged for a supervisor."
        ),
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket_of_caller(request, self, ticket_id)
        data = RatingRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = rate_ticket(
                ticket_id=ticket.id, score=data.validated_data["score"], comment=data.validated_data["comment"]
            )
        except Ticket.DoesNotExist as exc:  # deleted between the two reads
            raise NotFound("No inquiry matches this id and tracking token.") from exc
        body = RatingSerializer(result.rating).data
        if result.created:
            return Response(body, status=status.HTTP_201_CREATED)
        return Response(body, status=status.HTTP_200_OK, headers={"Idempotent-Replayed": "true"})
