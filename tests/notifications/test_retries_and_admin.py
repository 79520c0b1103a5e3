"""A notification the provider refuses is retried with growing backoff, then marked failed where
the admin shows it; "send again" there puts it back in line."""

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.test import Client

from notifications.models import Notification, NotificationStatus
from notifications.selectors import failed_notifications
from notifications.services.outbox import send_due_notifications
from routing.services import reply_to_shopper
from tests.notifications.conftest import MONDAY_10_SHANGHAI
from tickets.models import Channel

pytestmark = [pytest.mark.django_db]


class _Gateway(BaseHTTPRequestHandler):
    replies: list[int] = []
    received: list[str] = []

    def do_POST(self) -> None:
        type(self).received.append(self.headers["Idempotency-Key"])
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(type(self).replies.pop(0) if type(self).replies else 200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sms_gateway(settings) -> Iterator[type[_Gateway]]:
    """A real HTTP SMS gateway on loopback that answers what the test queues (200 otherwise)."""
    _Gateway.replies, _Gateway.received = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{server.server_address[1]}/sms"
    settings.SMS_HTTP_TIMEOUT = 2
    yield _Gateway
    server.shutdown()
    server.server_close()


def test_a_refused_sms_is_retried_with_backoff_then_failed_and_sent_again_from_the_admin(
    ana, emma, sam, ticket_of, sms_gateway, settings
) -> None:
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 30
    with time_machine.travel(MONDAY_10_SHANGHAI, tick=False) as clock:
        ticket = ticket_of(emma, channel=Channel.CHAT)
        reply_to_shopper(ticket_id=ticket.pk, by=ana.user, body="We will send a new bracelet today.")
        sms_gateway.replies = [500, 503, 502]
        due = MONDAY_10_SHANGHAI + timedelta(seconds=20)

        assert send_due_notifications(now=due).retry == 1
        row = Notification.objects.get()
        assert (row.attempts, row.next_attempt_at, row.status) == (1, due + timedelta(seconds=30), "pending")
        assert "HTTP 500" in row.last_error
        assert send_due_notifications(now=due + timedelta(seconds=29)).retry == 0  # not yet
        send_due_notifications(now=due + timedelta(seconds=30))
        row.refresh_from_db()
        assert row.next_attempt_at == due + timedelta(seconds=90)  # 30 s, then 60 s
        assert send_due_notifications(now=due + timedelta(seconds=90)).failed == 1
        row.refresh_from_db()
        assert (row.status, row.attempts) == (NotificationStatus.FAILED, 3)
        assert [n.pk for n in failed_notifications()] == [row.pk]
        assert len(sms_gateway.received) == 3 and set(sms_gateway.received) == {row.idempotency_key}

        # The admin lists it under "failed"; "send again" puts it back; the gateway is fine now.
        admin = Client()
        admin.force_login(sam.user)
        listing = admin.get("/admin/notifications/notification/?status__exact=failed")
        assert listing.status_code == 200 and row.idempotency_key in listing.content.decode()
        clock.shift(timedelta(minutes=5))
        response = admin.post(
            "/admin/notifications/notification/",
            {"action": "retry_failed", "_selected_action": [row.pk]},
            follow=True,
        )
        assert "1 notification(s) queued again." in response.content.decode()
        row.refresh_from_db()
        assert (row.status, row.attempts) == (NotificationStatus.PENDING, 0)
        assert send_due_notifications().sent == 1
        row.refresh_from_db()
        assert row.status == NotificationStatus.SENT and len(sms_gateway.received) == 4


def test_send_again_leaves_notifications_that_did_not_fail_alone(ana, wang, sam, ticket_of, clock) -> None:
    ticket = ticket_of(wang)
    reply_to_shopper(ticket_id=ticket.pk, by=ana.user, body="好的")
    row = Notification.objects.get()
    admin = Client()
    admin.force_login(sam.user)
    response = admin.post(
        "/admin/notifications/notification/", {"action": "retry_failed", "_selected_action": [row.pk]}, follow=True
    )
    assert "0 notification(s) queued again." in response.content.decode()
    row.refresh_from_db()
    assert row.status == NotificationStatus.PENDING and row.next_attempt_at > MONDAY_10_SHANGHAI
