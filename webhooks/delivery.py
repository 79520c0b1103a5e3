"""Sending the outbox: signed POSTs, in order per (endpoint, ticket), retried with backoff.

A run serves one endpoint (the webhooks.deliver task, kicked per endpoint on the "webhooks"
Celery queue, so a slow or dead receiver only ever occupies webhook workers). It claims a group
of due rows with SKIP LOCKED — the heads of each ticket's line (no earlier pending row for that
ticket) and the rows behind them — sends them, records every attempt and commits the group at
once. Within a group, different tickets' rows are in flight at the same time (a small thread
pool per process sharing one keep-alive client, WEBHOOK_CONCURRENCY requests at most); one
ticket's rows go one after another, in id order. The group's bookkeeping (rows, attempt log,
the endpoint's success) is one statement on PostgreSQL. The row locks are held across the
requests, so two runs never send the same row at the same time; a worker killed mid-group rolls
the group back, and its rows go again (at least once: receivers deduplicate by the event id).

Order: a row whose earlier sibling is still pending (waiting for its retry) is never claimed,
and within a group a ticket's later rows are skipped once one of its rows has to be retried.

Failure: 2xx delivered; 408, 429, 3xx, 5xx, timeouts and connection errors retried after an
exponential backoff with jitter until give_up_at (WEBHOOK_RETRY_HOURS); any other 4xx failed at
once (retrying cannot fix it). A timeout, a connection error, a 429 or a third failure in a row
ends the run and rests the endpoint (paused_until) for the backoff of its failure streak, so a
dead receiver costs one request per rest, not one per row. An endpoint that has failed
WEBHOOK_DISABLE_AFTER_FAILURES times in a row over at least WEBHOOK_DISABLE_AFTER_HOURS is
disabled, and the supervisors' dashboard shows it.
"""

import json
import logging
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from core.kicks import claim
from webhooks.catalog import ENVELOPE_VERSION
from webhooks.fanout import fan_out, fan_out_batch, has_stale_events
from webhooks.models import (
    AttemptOutcome,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from webhooks.outbox import enqueue_deliveries, kick_key
from webhooks.signing import SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

# Rows claimed, sent and committed together (at most this many go twice when a worker dies).
GROUP_SIZE = 50
# A run hands over to a fresh task after this long (re-kicked), well inside the task time limit.
RUN_BUDGET_SECONDS = 10.0
# Failures in a row within one run after which the endpoint rests.
FAILURES_BEFORE_REST = 3
MAX_BACKOFF_SECONDS = 3600
EXCERPT_CHARS = 500
_READ_LIMIT = 4096
USER_AGENT = "CX-Console-Webhooks/1"

_local = threading.local()
_pool_lock = threading.Lock()
_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}


def http_client() -> httpx.Client:
    """One keep-alive client per process and calling thread (made after a prefork worker's fork);
    the sender threads of a group share their caller's (httpx.Client is thread-safe)."""
    client: httpx.Client | None = getattr(_local, "client", None)
    if client is None:
        client = httpx.Client(
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_keepalive_connections=50, keepalive_expiry=30),
        )
        _local.client = client
    return client


def _sender_pool(size: int) -> ThreadPoolExecutor:
    """The process's sender threads (keyed by pid, so a forked worker makes its own, and by size,
    so a changed setting takes effect)."""
    key = (os.getpid(), size)
    with _pool_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="webhook-send")
        return pool


def envelope(event: WebhookEvent) -> bytes:
    """The versioned JSON body: what the receiver verifies byte for byte."""
    return json.dumps(
        {
            "id": str(event.uuid),
            "type": event.type,
            "version": ENVELOPE_VERSION,
            "created_at": event.created_at.isoformat(),
            "data": event.data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Before attempt attempts+1: base × 2^(attempts-1), capped, with jitter (the upper half of
    the interval, so retries of many rows after one outage spread out instead of arriving together)."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    ceiling = min(base, MAX_BACKOFF_SECONDS)
    return timedelta(seconds=ceiling * (rng or random).uniform(0.5, 1.0))


@dataclass
class Attempt:
    delivery: WebhookDelivery
    started_at: datetime
    latency_ms: float
    outcome: str
    status_code: int | None = None
    error: str = ""
    excerpt: str = ""
    # The endpoint itself looks unwell (timeout, connection refused, rate limit): stop the run.
    unwell: bool = False
    retry_after: float | None = None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max((parsedate_to_datetime(value) - timezone.now()).total_seconds(), 0.0)
        except (TypeError, ValueError):
            return None


def send(endpoint: WebhookEndpoint, delivery: WebhookDelivery, *, client: httpx.Client | None = None) -> Attempt:
    """One signed POST. Never raises for what the receiver does."""
    event = delivery.event
    body = envelope(event)
    headers = {
        "Content-Type": "application/json",
        "X-CX-Event-Id": str(event.uuid),
        "X-CX-Event-Type": event.type,
        "X-CX-Delivery-Id": str(delivery.pk),
        SIGNATURE_HEADER: signature_header(endpoint.secret, body),
    }
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    started_at = timezone.now()
    started = time.perf_counter()
    try:
        with (client or http_client()).stream(
            "POST",
            endpoint.url,
            content=body,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
        ) as response:
            excerpt = b""
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= _READ_LIMIT:
                    break  # closing an unread body drops that connection, nothing worse
    except httpx.TimeoutException as exc:
        return Attempt(
            delivery,
            started_at,
            _ms(started),
            AttemptOutcome.RETRY,
            error=f"timeout ({type(exc).__name__})",
            unwell=True,
        )
    except httpx.HTTPError as exc:
        return Attempt(
            delivery,
            started_at,
            _ms(started),
            AttemptOutcome.RETRY,
            error=f"{type(exc).__name__}: {exc}"[:300],
            unwell=True,
        )
    code = response.status_code
    text = excerpt.decode("utf-8", "replace")[:EXCERPT_CHARS]
    attempt = Attempt(delivery, started_at, _ms(started), AttemptOutcome.DELIVERED, status_code=code, excerpt=text)
    if 200 <= code < 300:
        return attempt
    attempt.error = f"HTTP {code}"
    if 400 <= code < 500 and code not in (408, 429):
        attempt.outcome = AttemptOutcome.FAILED  # the request itself is refused: retrying cannot help
    else:
        attempt.outcome = AttemptOutcome.RETRY
        if code == 429:
            attempt.unwell = True
            attempt.retry_after = _retry_after(response)
    return attempt


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


@dataclass
class RunSummary:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    groups: int = 0
    stopped: str = ""  # why the run ended early: "unwell", "budget", "paused", "inactive"
    attempts: list[str] = field(default_factory=list)


def _claim(endpoint_id: int, now: datetime) -> list[WebhookDelivery]:
    """Lock up to GROUP_SIZE due rows that may go now: the heads of their tickets' lines, then
    the rows behind those heads (SKIP LOCKED: rows another run holds are left to it)."""
    # A scalar subquery, probed per row through webhook_delivery_order: PostgreSQL turns a NOT
    # EXISTS into an anti join, which on a burst into a table analyzed while small (statistics
    # saying one row) became a nested loop over every pending row squared.
    first_pending = (
        WebhookDelivery.objects.filter(
            endpoint_id=OuterRef("endpoint_id"), ticket_id=OuterRef("ticket_id"), status=DeliveryStatus.PENDING
        )
        .order_by("id")
        .values("id")[:1]
    )
    heads = list(
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(ticket_id__isnull=True) | Q(pk=Subquery(first_pending)))
        .select_related("event")
        .order_by("id")[:GROUP_SIZE]
    )
    if not heads:
        return heads
    first: dict[int, int] = {}
    for row in heads:
        if row.ticket_id is not None:
            first.setdefault(row.ticket_id, row.pk)
    followers: list[WebhookDelivery] = []
    room = GROUP_SIZE - len(heads)
    if first and room > 0:
        # Behind a head we hold, nobody else can claim them (their head is pending for everyone).
        followers = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                endpoint_id=endpoint_id,
                status=DeliveryStatus.PENDING,
                ticket_id__in=list(first),
                id__gt=min(first.values()),
            )
            .exclude(pk__in=[row.pk for row in heads])
            .select_related("event")
            .order_by("id")[:room]
        )
    return sorted([*heads, *followers], key=lambda row: row.pk)


def deliver_endpoint(*, endpoint_id: int, budget_seconds: float = RUN_BUDGET_SECONDS) -> RunSummary:
    """The webhooks.deliver task: send an endpoint's due rows, group after group, until none is
    left, the endpoint looks unwell, or the budget is spent (then a successor is kicked).
    Idempotent and safe to run twice at once (SKIP LOCKED).

    It first fans out what events are waiting (unless a fan-out is running, which kicks the
    endpoints it serves), so a run never leaves a committed event for one more hop."""
    claim(kick_key(endpoint_id))
    fanned = fan_out_batch(wait=False)
    if fanned is not None and fanned.endpoints - {endpoint_id}:
        enqueue_deliveries(sorted(fanned.endpoints - {endpoint_id}))
    deadline = time.monotonic() + budget_seconds
    summary = RunSummary()
    while True:
        now = timezone.now()
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None or not endpoint.is_deliverable:
            summary.stopped = "inactive"
            return summary
        if endpoint.paused_until is not None and endpoint.paused_until > now:
            summary.stopped = "paused"  # the sweep kicks it again when the rest is over
            return summary
        with transaction.atomic():
            rows = _claim(endpoint_id, now)
            if not rows:
                return summary
            summary.groups += 1
            attempts, unwell = _send_group(endpoint, rows, deadline=deadline)
            _record(endpoint_id, attempts, unwell=unwell)
        for attempt in attempts:
            if attempt.outcome == AttemptOutcome.DELIVERED:
                summary.delivered += 1
            elif attempt.outcome == AttemptOutcome.RETRY:
                summary.retried += 1
            else:
                summary.failed += 1
        if unwell:
            summary.stopped = "unwell"
            return summary
        if time.monotonic() >= deadline:
            summary.stopped = "budget"
            enqueue_deliveries([endpoint_id])
            return summary


class _GroupState:
    """What the sender threads of one group share: whether to stop, and the failure run."""

    def __init__(self, deadline: float) -> None:
        self.lock = threading.Lock()
        self.deadline = deadline
        self.stopped = False
        self.unwell = False
        self.failures_in_a_row = 0
        self.attempts: list[Attempt] = []

    def may_send(self) -> bool:
        return not self.stopped and time.monotonic() < self.deadline

    def add(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)
            if attempt.outcome == AttemptOutcome.DELIVERED:
                self.failures_in_a_row = 0
            else:
                self.failures_in_a_row += 1
            if attempt.unwell or self.failures_in_a_row >= FAILURES_BEFORE_REST:
                self.stopped = self.unwell = True


def _lines(rows: list[WebhookDelivery]) -> list[list[WebhookDelivery]]:
    """The group split into what must go one after another: one line per ticket, in id order;
    a row without a ticket is a line of its own."""
    by_ticket: dict[int, list[WebhookDelivery]] = {}
    lines: list[list[WebhookDelivery]] = []
    for row in rows:
        if row.ticket_id is None:
            lines.append([row])
        elif row.ticket_id in by_ticket:
            by_ticket[row.ticket_id].append(row)
        else:
            by_ticket[row.ticket_id] = line = [row]
            lines.append(line)
    return lines


def _send_line(
    endpoint: WebhookEndpoint, line: list[WebhookDelivery], state: _GroupState, client: httpx.Client
) -> None:
    """A ticket's rows in order; a row to retry holds the rest of its line for this group."""
    for row in line:
        if not state.may_send():
            return  # the rest stays pending, untouched, for the successor
        attempt = send(endpoint, row, client=client)
        state.add(attempt)
        if attempt.outcome == AttemptOutcome.RETRY:
            return


def _send_group(
    endpoint: WebhookEndpoint, rows: list[WebhookDelivery], *, deadline: float
) -> tuple[list[Attempt], bool]:
    """Send a claimed group (not empty): lines of different tickets at once (up to
    WEBHOOK_CONCURRENCY), each line in order. Stops starting requests once the endpoint looks unwell or the budget is spent.
    Returns the attempts in the order they finished."""
    state = _GroupState(deadline)
    lines = _lines(rows)
    client = http_client()
    # The group's first request goes alone, and the rest fan out only once it got through: a
    # receiver that is down or failing costs one request per rest, not one per sender thread.
    probe = send(endpoint, lines[0][0], client=client)
    state.add(probe)
    lines[0] = [] if probe.outcome == AttemptOutcome.RETRY else lines[0][1:]
    lines = [line for line in lines if line]
    concurrency = min(settings.WEBHOOK_CONCURRENCY, len(lines))
    if probe.outcome != AttemptOutcome.DELIVERED or concurrency <= 1:
        for line in lines:
            _send_line(endpoint, line, state, client)
        return state.attempts, state.unwell
    pool = _sender_pool(settings.WEBHOOK_CONCURRENCY)
    next_line = iter(lines)
    take_lock = threading.Lock()

    def worker() -> None:
        # Each of `concurrency` workers takes the next line when it is done with one.
        while state.may_send():
            with take_lock:
                line = next(next_line, None)
            if line is None:
                return
            _send_line(endpoint, line, state, client)

    futures = [pool.submit(worker) for _ in range(concurrency)]
    for future in futures:
        future.result()  # send() never raises for the receiver; anything else is a bug to surface
    return state.attempts, state.unwell


def _record(endpoint_id: int, attempts: list[Attempt], *, unwell: bool) -> None:
    """Write the group's outcomes, its attempt log and the endpoint's failure streak (the endpoint
    row is locked last and briefly, just before the group commits)."""
    now = timezone.now()
    rows = []
    log = []
    for attempt in attempts:
        row = attempt.delivery
        row.attempts += 1
        row.last_status_code = attempt.status_code
        row.last_error = attempt.error[:300]
        if attempt.outcome == AttemptOutcome.DELIVERED:
            row.status = DeliveryStatus.DELIVERED
            row.delivered_at = now
        elif attempt.outcome == AttemptOutcome.FAILED:
            row.status = DeliveryStatus.FAILED
        else:
            wait = backoff(row.attempts)
            if attempt.retry_after is not None:
                wait = max(wait, timedelta(seconds=min(attempt.retry_after, MAX_BACKOFF_SECONDS)))
            row.next_attempt_at = now + wait
            if row.next_attempt_at > row.give_up_at:
                row.status = DeliveryStatus.FAILED
                attempt.outcome = AttemptOutcome.FAILED
                row.last_error = f"gave up after {row.attempts} attempts: {attempt.error}"[:300]
        rows.append(row)
        log.append(
            WebhookAttempt(
                delivery=row,
                number=row.attempts,
                started_at=attempt.started_at,
                status_code=attempt.status_code,
                latency_ms=attempt.latency_ms,
                outcome=attempt.outcome,
                error=attempt.error[:300],
                response_excerpt=attempt.excerpt,
            )
        )
    if not rows:
        return
    # The last attempt to finish got through: the streak is over whatever it was, so the endpoint
    # row needs no read (what _update_streak would write), and it joins the same statement.
    succeeded = not unwell and attempts[-1].outcome == AttemptOutcome.DELIVERED
    if connection.vendor == "postgresql":
        _record_postgresql(rows, log, endpoint_id=endpoint_id if succeeded else None, now=now)
    else:
        WebhookDelivery.objects.bulk_update(
            rows, ["status", "attempts", "next_attempt_at", "last_status_code", "last_error", "delivered_at"]
        )
        WebhookAttempt.objects.bulk_create(log)
        if succeeded:
            WebhookEndpoint.objects.filter(pk=endpoint_id).update(**_SUCCESS, last_success_at=now, updated_at=now)
    if not succeeded:
        _update_streak(endpoint_id, attempts, unwell=unwell, now=now)


# What a group whose last attempt succeeded leaves on its endpoint.
_SUCCESS: dict[str, object] = {"consecutive_failures": 0, "failing_since": None, "paused_until": None}

# A group's bookkeeping in one round trip (constant text, array parameters): the rows' new state,
# their attempts, and (when %(endpoint)s is not null) the endpoint's success.
_RECORD_SQL = """
WITH rows AS (
    UPDATE webhooks_webhookdelivery AS d
    SET status = u.status, attempts = u.attempts, next_attempt_at = u.next_attempt_at,
        last_status_code = u.last_status_code, last_error = u.last_error, delivered_at = u.delivered_at
    FROM unnest(
        %(id)s::bigint[], %(status)s::varchar[], %(attempts)s::smallint[], %(next_attempt_at)s::timestamptz[],
        %(last_status_code)s::smallint[], %(last_error)s::varchar[], %(delivered_at)s::timestamptz[]
    ) AS u (id, status, attempts, next_attempt_at, last_status_code, last_error, delivered_at)
    WHERE d.id = u.id
), log AS (
    INSERT INTO webhooks_webhookattempt
        (delivery_id, number, started_at, status_code, latency_ms, outcome, error, response_excerpt)
    SELECT * FROM unnest(
        %(id)s::bigint[], %(attempts)s::smallint[], %(started_at)s::timestamptz[], %(last_status_code)s::smallint[],
        %(latency_ms)s::float8[], %(outcome)s::varchar[], %(error)s::varchar[], %(excerpt)s::varchar[]
    )
)
UPDATE webhooks_webhookendpoint
SET consecutive_failures = 0, failing_since = NULL, paused_until = NULL, last_success_at = %(now)s,
    updated_at = %(now)s
WHERE id = %(endpoint)s
"""


def _record_postgresql(
    rows: list[WebhookDelivery], log: list[WebhookAttempt], *, endpoint_id: int | None, now: datetime
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD_SQL,
            {
                "id": [row.pk for row in rows],
                "status": [row.status for row in rows],
                "attempts": [row.attempts for row in rows],
                "next_attempt_at": [row.next_attempt_at for row in rows],
                "last_status_code": [row.last_status_code for row in rows],
                "last_error": [row.last_error for row in rows],
                "delivered_at": [row.delivered_at for row in rows],
                "started_at": [entry.started_at for entry in log],
                "latency_ms": [entry.latency_ms for entry in log],
                "outcome": [entry.outcome for entry in log],
                "error": [entry.error for entry in log],
                "excerpt": [entry.response_excerpt for entry in log],
                "endpoint": endpoint_id,
                "now": now,
            },
        )


def _update_streak(endpoint_id: int, attempts: list[Attempt], *, unwell: bool, now: datetime) -> None:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    trailing = 0
    for attempt in reversed(attempts):
        if attempt.status_code is not None and 200 <= attempt.status_code < 300:
            break
        trailing += 1
    fields = ["consecutive_failures", "failing_since", "paused_until", "last_success_at", "last_failure_at"]
    if trailing < len(attempts):  # something got through: the streak restarts from there
        endpoint.consecutive_failures = trailing
        endpoint.failing_since = now if trailing else None
        endpoint.last_success_at = now
    else:
        endpoint.consecutive_failures += trailing
        endpoint.failing_since = endpoint.failing_since or now
    if trailing:
        endpoint.last_failure_at = now
    endpoint.paused_until = None
    if unwell:
        rest = backoff(endpoint.consecutive_failures)
        retry_after = attempts[-1].retry_after
        if retry_after is not None:
            rest = max(rest, timedelta(seconds=min(retry_after, MAX_BACKOFF_SECONDS)))
        endpoint.paused_until = now + rest
    if (
        endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES
        and endpoint.failing_since is not None
        and now - endpoint.failing_since >= timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    ):
        endpoint.disabled_at = now
        endpoint.disabled_reason = (
            f"{endpoint.consecutive_failures} failed attempts in a row since "
            f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC; last: {attempts[-1].error}"
        )[:300]
        fields += ["disabled_at", "disabled_reason"]
        logger.error("Webhook endpoint %s (%s) disabled: %s", endpoint.pk, endpoint.url, endpoint.disabled_reason)
    endpoint.save(update_fields=[*fields, "updated_at"])  # disabled: the subscriptions cache drops it


def endpoints_due(*, now: datetime | None = None) -> list[int]:
    """Deliverable endpoints, not resting, with rows due (the sweep kicks these)."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("pk"), status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    )
    return list(
        WebhookEndpoint.objects.filter(is_active=True, disabled_at__isnull=True)
        .filter(Q(paused_until__isnull=True) | Q(paused_until__lte=now))
        .filter(Exists(due))
        .order_by("id")
        .values_list("id", flat=True)
    )


def sweep_due_deliveries(*, now: datetime | None = None) -> int:
    """Beat, every few seconds: fan out events left waiting (a lost or throttled kick), then kick
    every endpoint with due rows (retries whose backoff is over, rests that ended, runs lost with
    their message). Bounded (capped fan-out batches, then one kick per endpoint); safe to run
    twice (the fan-out lock, kicks coalesce, runs claim with SKIP LOCKED)."""
    if has_stale_events(now=now):
        fan_out()
    endpoint_ids = endpoints_due(now=now)
    if endpoint_ids:
        enqueue_deliveries(endpoint_ids)
    return len(endpoint_ids)
