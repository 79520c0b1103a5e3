"""Floors for the routing benchmark: what the same server does with no product work at all.

Mounted only when BENCH_ENDPOINTS=1 (bench/bench_routing.py sets it for its own server).
"""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

BENCH_TABLE = "bench_floor_row"


@csrf_exempt
def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


@csrf_exempt
def one_row(request: HttpRequest) -> JsonResponse:
    # One small row, one commit (autocommit), per request: the database floor for intake.
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {BENCH_TABLE} (created) VALUES (now()) RETURNING id")  # noqa: S608  # a constant table name
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id})
