"""Floors for the routing benchmark: what the same server does with no product work at all.

Mounted only when BENCH_ENDPOINTS=1 (bench/bench_routing.py sets it for its own server), and
the middleware that counts each request's CPU by view for bench/bench_console.py (mounted only
when BENCH_CPU_BY_VIEW=1).
"""

import threading
import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
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


CPU_BY_VIEW_KEY = "bench:cpu-by-view"
CPU_FLUSH_SECONDS = 1.0


class CpuByViewMiddleware:
    """CPU of each request by kind (its view's name, or "304 <path>" for a live fragment
    answered before routing), summed per process and added to a Redis hash about once a second,
    for bench/bench_console.py. Thread CPU time: under ASGI the view's sync thread only (not the
    event loop's share), under WSGI the request's own thread. First in MIDDLEWARE, and only when
    BENCH_CPU_BY_VIEW=1."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.pending: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.flushed = time.monotonic()
        self.redis = redis.Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.thread_time()
        response = self.get_response(request)
        used = time.thread_time() - started
        match = getattr(request, "resolver_match", None)
        kind = match.view_name if match else request.path
        if response.status_code == 304:
            kind = f"304 {request.path}"
        with self.lock:
            entry = self.pending.setdefault(kind, [0.0, 0.0])
            entry[0] += 1
            entry[1] += used
            due = time.monotonic() - self.flushed >= CPU_FLUSH_SECONDS
            if due:
                pending, self.pending, self.flushed = self.pending, {}, time.monotonic()
        if due and self.redis is not None:
            pipe = self.redis.pipeline(transaction=False)
            for name, (count, seconds) in pending.items():
                pipe.hincrbyfloat(CPU_BY_VIEW_KEY, f"{name}|n", count)
                pipe.hincrbyfloat(CPU_BY_VIEW_KEY, f"{name}|s", seconds)
            pipe.execute()
        return response
