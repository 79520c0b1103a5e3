"""A shopper's callback link dies with the callback: once it is cancelled or completed, an old
copy of the link shows nothing and books nothing."""

import re

import pytest
from django.test import Client

from callbacks.links import make_link_token
from callbacks.models import Callback, CallbackStatus, NotificationKind
from callbacks.services import cancel_callback, record_callback_outcome, start_callback
from notifications.models import Notification
from tests.callbacks.conftest import at_shanghai

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

ACTIONS = ["confirm", "reschedule", "cancel", "book"]


def test_a_cancelled_callbacks_link_cannot_book_again_or_show_the_phone(booked) -> None:
    callback = booked(at_shanghai(23, 14))
    token = make_link_token(callback.pk)
    slot = re.findall(r'<option value="([^"]+)"', Client().get(f"/callbacks/{token}/").content.decode())[0]
    cancel_callback(callback_id=callback.pk)

    page = Client().get(f"/callbacks/{token}/")
    answers = [Client().post(f"/callbacks/{token}/{action}/", {"slot": slot}) for action in ACTIONS]

    assert page.status_code == 410
    html = page.content.decode()
    assert callback.phone not in html and "13800138000" not in html
    assert [a.status_code for a in answers] == [410] * len(ACTIONS)
    assert Callback.objects.count() == 1
    assert Callback.objects.get().status == CallbackStatus.CANCELLED


def test_a_completed_callbacks_link_no_longer_works(booked, ana, clock) -> None:
    callback = booked(at_shanghai(23, 14))
    clock.move_to(at_shanghai(23, 14, 1))
    start_callback(callback_id=callback.pk, by=ana.user)
    record_callback_outcome(callback_id=callback.pk, outcome="reached", by=ana.user)
    token = make_link_token(callback.pk)
    page = Client().get(f"/callbacks/{token}/")
    assert page.status_code == 410 and "此回电已完成" in page.content.decode()  # in Wang's language
    assert Client().post(f"/callbacks/{token}/book/", {"slot": "2026-11-24T02:00:00+0000"}).status_code == 410


def test_the_cancellation_message_leads_to_the_inquiry_not_to_the_dead_link(booked) -> None:
    callback = booked(at_shanghai(23, 14))
    cancel_callback(callback_id=callback.pk)
    told = Notification.objects.filter(kind=NotificationKind.CANCELLED)
    assert told.exists()
    for notification in told:
        assert "/shop/access/" in notification.body
        assert make_link_token(callback.pk) not in notification.body
