"""Queue health for wallboards and monitoring: JSON at /api/v1/queues/health/, Prometheus text at
/metrics. Supervisors only (teams.supervise_queues); /metrics also takes METRICS_TOKEN as a bearer."""

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales import metrics as aftersales_metrics
from aftersales.selectors import aftersales_figures
from core.auth import CachedTokenAuthentication
from routing.api import IsSupervisor
from supervision import metrics
from supervision.selectors import current_health

METRICS_TOKEN_AUTH = "metrics-token"  # noqa: S105  # the auth scheme's name in the schema, not a secret


# The payload's shape, for the OpenAPI schema (wallboard clients); a test holds it equal to what
# current_health() really returns. Definitions of each figure: the README.
class WindowFiguresSerializer(serializers.Serializer):
    assigned = serializers.IntegerField()
    answered_within_target = serializers.IntegerField()
    abandoned_after_grace = serializers.IntegerField()
    average_speed_of_answer_seconds = serializers.FloatField(allow_null=True)
    service_level = serializers.FloatField(allow_null=True, help_text="0..1; null when nothing to count.")


class CsatFiguresSerializer(serializers.Serializer):
    ratings = serializers.IntegerField(help_text="Ratings of the resolutions in the window.")
    satisfied = serializers.IntegerField(help_text="Of those, scores of 4 or 5.")
    satisfied_share = serializers.FloatField(allow_null=True, help_text="satisfied / ratings; null without ratings.")
    resolutions = serializers.IntegerField(help_text="Tickets whose latest resolution is in the window.")
    rated_resolutions = serializers.IntegerField(help_text="Of those, rated for that resolution.")
    response_rate = serializers.FloatField(
        allow_null=True, help_text="rated_resolutions / resolutions; null without resolutions."
    )


class CsatSerializer(serializers.Serializer):
    today = CsatFiguresSerializer()
    last_7_days = CsatFiguresSerializer(help_text="Today and the six local days before it.")


class QueueHealthSerializer(serializers.Serializer):
    queue_id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    name_zh = serializers.CharField()
    kind = serializers.CharField()
    service_level_seconds = serializers.IntegerField()
    service_level_target_percent = serializers.IntegerField()
    overflow_seconds = serializers.IntegerField()
    waiting = serializers.IntegerField()
    longest_wait_seconds = serializers.FloatField()
    sla_breaches_now = serializers.IntegerField()
    offered_today = serializers.IntegerField()
    assigned_today = serializers.IntegerField()
    resolved_today = serializers.IntegerField()
    abandoned_today = serializers.IntegerField()
    average_handle_time_seconds = serializers.FloatField(allow_null=True)
    last_30_minutes = WindowFiguresSerializer()
    today = WindowFiguresSerializer()
    agents_online = serializers.IntegerField()
    agents_available = serializers.IntegerField()
    agents_busy = serializers.IntegerField()
    agents_away = serializers.IntegerField()
    occupancy = serializers.FloatField(allow_null=True)
    callbacks_due_next_hour = serializers.IntegerField()
    callbacks_overdue = serializers.IntegerField()
    callbacks_missed_today = serializers.IntegerField()
    csat = CsatSerializer()
    service_level_below_target = serializers.BooleanField()
    longest_wait_past_target = serializers.BooleanField()
    state = serializers.ChoiceField(choices=["ok", "warn", "alert"])


class AgentRowSerializer(serializers.Serializer):
    agent_id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    status = serializers.CharField()
    status_since = serializers.DateTimeField()
    no_console = serializers.BooleanField(help_text="The status was set because no console of the agent was open.")
    missed_offers = serializers.IntegerField(
        help_text="Offers missed in a row (while Away: why the agent was set Away)."
    )
    open_tickets = serializers.IntegerField()
    capacity = serializers.IntegerField()
    handled_today = serializers.IntegerField()
    average_handle_time_seconds = serializers.FloatField(allow_null=True)
    languages = serializers.ListField(child=serializers.CharField())
    primary_skills = serializers.ListField(child=serializers.CharField())
    secondary_skills = serializers.ListField(child=serializers.CharField())
    csat = CsatSerializer(help_text="Ratings of the resolutions this agent made.")


class HealthSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    day_start = serializers.DateTimeField()
    time_zone = serializers.CharField()
    service_level_abandon_grace_seconds = serializers.IntegerField()
    queues = QueueHealthSerializer(many=True)
    agents = AgentRowSerializer(many=True)
    csat = CsatSerializer(help_text="Every queue together.")
    low_ratings_to_follow_up = serializers.IntegerField(help_text="Ratings of 1–2 no supervisor has followed up yet.")


class QueueHealthView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsSupervisor]

    @extend_schema(
        responses=HealthSerializer,
        summary="Queue health: every queue's metrics and the agent board (supervisors)",
        description="The figures the supervisors' dashboard shows, defined in the README. Cached for "
        "QUEUE_HEALTH_CACHE_SECONDS (see generated_at).",
    )
    def get(self, request: Request) -> Response:
        return Response(current_health())


class MetricsTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <METRICS_TOKEN>` for a Prometheus scraper (when the setting is set)."""

    def authenticate(self, request: Request) -> tuple[Any, str] | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not settings.METRICS_TOKEN:
            return None
        if not hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode()):
            return None  # then the other schemes; in the end 401
        return AnonymousUser(), METRICS_TOKEN_AUTH

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="metrics"'


class MaySeeMetrics(permissions.BasePermission):
    message = "Only supervisors (or a scraper holding METRICS_TOKEN) may read the metrics."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.auth == METRICS_TOKEN_AUTH:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.has_perm("teams.supervise_queues"))


class MetricsView(APIView):
    authentication_classes = [MetricsTokenAuthentication, CachedTokenAuthentication, SessionAuthentication]
    permission_classes = [MaySeeMetrics]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        body = metrics.render(current_health()) + aftersales_metrics.render(aftersales_figures(now=timezone.now()))
        return HttpResponse(body, content_type=metrics.CONTENT_TYPE)
