"""API-wide error handling: every failure a client can cause is a 4xx with a readable body, and
a server too busy to take a request says so (503, Retry-After) instead of failing with a 500."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from psycopg_pool import PoolTimeout
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ConflictError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConflictError):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, OperationalError) and isinstance(exc.__cause__, PoolTimeout):
        # Every pooled database connection stayed busy for DB_POOL_TIMEOUT: nothing was written.
        busy = Response(
            {"detail": "The service is busy; nothing was saved. Try again shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        busy["Retry-After"] = "1"
        return busy
    return drf_exception_handler(exc, context)
