"""Queue health for wallboards and monitoring: JSON at /api/v1/queues/health/, Prometheus text at
/metrics. Supervisors only (teams.supervise_queues); /metrics also takes METRICS_TOKEN as a bearer."""

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from routing.api import IsSupervisor
from supervision import metrics
from supervision.selectors import current_health

METRICS_TOKEN_AUTH = "metrics-token"


class QueueHealthView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsSupervisor]

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
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
    authentication_classes = [MetricsTokenAuthentication, TokenAuthentication, SessionAuthentication]
    permission_classes = [MaySeeMetrics]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(metrics.render(current_health()), content_type=metrics.CONTENT_TYPE)
