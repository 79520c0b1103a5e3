"""API-wide error handling: every failure a client can cause is a 4xx with a readable body, and
a server too busy or cut off from its database says so (503, Retry-After) instead of failing with
a 500, so a storefront retries with its Idempotency-Key."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
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
    if isinstance(exc, OperationalError | InterfaceError):
        # No connection (PostgreSQL restarting, a pool whose connections all stayed busy for
        # DB_POOL_TIMEOUT): the request's transaction did not commit.
        busy = isinstance(exc.__cause__, PoolTimeout)
        unavailable = Response(
            {
                "detail": "The service is busy; nothing was saved. Try again shortly."
                if busy
                else "The service is briefly unavailable; nothing was saved. Try again shortly."
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        unavailable["Retry-After"] = "1"
        return unavailable
    return drf_exception_handler(exc, context)
