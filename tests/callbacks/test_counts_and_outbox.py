"""Supervisors' figures per queue (one query), and the outbox: backoff, giving up visibly, and
the HTTP SMS provider against a real local server (success, 500, timeout)."""

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from callbacks.models import Callback, CallbackStatus
from callbacks.selectors import (
    CallbackCounts,
    callback_counts_by_queue,
    failed_notifications,
    notification_failures_by_queue,
)
from callbacks.services import dispatch_due_callbacks
from notifications.models import Notification, NotificationStatus
from notifications.providers import HttpSmsProvider, ProviderError
from notifications.services.outbox import retry_failed_notification, send_due_notifications
from tests.factories import queue
from tests.helpers import at_shanghai

pytestmark = [pytest.mark.django_db]


def test_counts_by_queue_cover_due_next_hour_overdue_and_missed_today_in_one_query(
    clock, booked, ticket_of, wang, ana, django_assert_num_queries
) -> None:
    from callbacks.services import policy_for

    policy = policy_for(queue("jewelry"))
    policy.callbacks_per_slot = 10
    policy.save()
    soon = [booked(at_shanghai(23, 11)), booked(at_shanghai(23, 11, 30))]
    late = booked(at_shanghai(23, 14))
    overdue = booked(at_shanghai(23, 10, 30))
    gone = booked(at_shanghai(23, 10, 45))
    Callback.objects.filter(pk=gone.pk).update(status=CallbackStatus.MISSED, missed_at=at_shanghai(23, 10, 50))
    Callback.objects.filter(pk=late.pk).update(status=CallbackStatus.CANCELLED)
    assert soon and overdue

    now = at_shanghai(23, 10, 55)
    with django_assert_num_queries(1):
        counts = callback_counts_by_queue(now=now, day_start=at_shanghai(23, 0))
    assert counts == {queue("jewelry").id: CallbackCounts(due_next_hour=2, overdue=1, missed_today=1)}
    assert callback_counts_by_queue(now=now, day_start=at_shanghai(23, 11)) == {
        queue("jewelry").id: CallbackCounts(due_next_hour=2, overdue=1, missed_today=0)
    }
    # A surfaced but unstarted callback is still overdue; a started one is not.
    dispatch_due_callbacks(now=now)
    assert callback_counts_by_queue(now=now, day_start=now)[queue("jewelry").id].overdue == 1
    Callback.objects.filter(pk=overdue.pk).update(status=CallbackStatus.IN_PROGRESS)
    assert callback_counts_by_queue(now=now, day_start=now)[queue("jewelry").id] == CallbackCounts(
        due_next_hour=2, overdue=0, missed_today=0
    )


def test_the_counts_query_uses_the_partial_indexes(clock, booked, postgres) -> None:
    from django.db import connection

    booked()
    sql, params = (
        Callback.objects.filter(status__in=["scheduled", "due", "in_progress"], scheduled_at__lt=at_shanghai(23, 11))
        .values("id")
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "callback_active_by_time" in plan


# --- The outbox ------------------------------------------------------------------------------------


def _break_sms(settings) -> None:
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/nothing-listens-here"
    settings.SMS_HTTP_TIMEOUT = 0.5


def test_a_failing_provider_is_retried_with_growing_backoff_then_marked_failed(clock, booked, settings) -> None:
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 30
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _break_sms(settings)
    callback = booked()
    sms = Notification.objects.get(callback=callback, channel="sms")
    start = at_shanghai(23, 10)

    assert send_due_notifications(now=start).retry == 1
    sms.refresh_from_db()
    assert (sms.attempts, sms.next_attempt_at, sms.status) == (1, start + timedelta(seconds=30), "pending")
    assert "unreachable" in sms.last_error
    assert send_due_notifications(now=start + timedelta(seconds=29)).retry == 0  # not yet
    send_due_notifications(now=start + timedelta(seconds=30))
    sms.refresh_from_db()
    assert sms.next_attempt_at == start + timedelta(seconds=90)  # 30 s, then 60 s
    send_due_notifications(now=start + timedelta(seconds=90))
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (NotificationStatus.FAILED, 3)

    # Supervisors see it, per queue, and can send it again once the provider is back.
    assert [n.pk for n in failed_notifications()] == [sms.pk]
    assert notification_failures_by_queue() == {queue("jewelry").id: 1}
    settings.SMS_BACKEND = "file"
    assert retry_failed_notification(notification_id=sms.pk)
    with time_machine.travel(start + timedelta(seconds=100), tick=False):
        assert send_due_notifications().sent == 1


class _Provider(BaseHTTPRequestHandler):
    replies: list[int] = []
    received: list[dict] = []
    delay = 0.0

    def do_POST(self) -> None:
        import time

        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        type(self).received.append({**body, "key_header": self.headers["Idempotency-Key"]})
        time.sleep(type(self).delay)
        code = type(self).replies.pop(0) if type(self).replies else 200
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def provider_server() -> Iterator[str]:
    _Provider.replies, _Provider.received, _Provider.delay = [], [], 0.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    # Closing waits for handlers still running (a delayed reply from a timeout test), so none of
    # them pops a reply the next test queued on the shared handler class.
    server.daemon_threads = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms"
    server.shutdown()
    server.server_close()


def test_the_http_provider_posts_json_with_the_idempotency_key(provider_server) -> None:
    HttpSmsProvider(provider_server, timeout=2).send(to="+8613800138000", body="您好", idempotency_key="k-1")
    assert _Provider.received == [
        {"to": "+8613800138000", "body": "您好", "idempotency_key": "k-1", "key_header": "k-1"}
    ]


def test_the_http_provider_reports_a_500_and_a_timeout_as_errors(provider_server) -> None:
    _Provider.replies = [500]
    with pytest.raises(ProviderError, match="HTTP 500"):
        HttpSmsProvider(provider_server, timeout=2).send(to="+1", body="x", idempotency_key="k")
    _Provider.delay = 1.0
    with pytest.raises(ProviderError):
        HttpSmsProvider(provider_server, timeout=0.2).send(to="+1", body="x", idempotency_key="k")


def test_an_sms_refused_with_500_is_sent_on_the_next_attempt(clock, booked, settings, provider_server) -> None:
    settings.SMS_BACKEND, settings.SMS_HTTP_URL = "http", provider_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _Provider.replies = [500]
    callback = booked()
    start = at_shanghai(23, 10)
    send_due_notifications(now=start)
    send_due_notifications(now=start + timedelta(seconds=30))
    sms = Notification.objects.get(callback=callback, channel="sms")
    assert (sms.status, sms.attempts) == (NotificationStatus.SENT, 2)
    assert len(_Provider.received) == 2 and _Provider.received[0]["key_header"] == sms.idempotency_key
