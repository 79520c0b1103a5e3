"""Booking tells the shopper (SMS, email with a calendar file, in their language and time zone);
rescheduling, confirming and cancelling keep the promise consistent."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from callbacks.models import Callback, CallbackStatus
from callbacks.services import (
    CallbackError,
    book_callback,
    cancel_callback,
    confirm_callback,
    reschedule_callback,
)
from callbacks.states import InvalidCallbackTransition
from notifications.models import Notification, NotificationStatus
from notifications.services.outbox import send_due_notifications
from tests.helpers import at_shanghai, notification_keys
from tickets.models import TicketStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def test_booking_puts_a_confirmation_by_sms_and_email_in_the_outbox(booked, wang) -> None:
    callback = booked(at_shanghai(23, 14), window_end=at_shanghai(23, 14, 30), note="确认戒指尺寸")

    assert callback.status == CallbackStatus.SCHEDULED
    assert callback.reminder_due_at == at_shanghai(23, 13)  # an hour before, the default lead
    assert notification_keys() == [
        f"callback:{callback.pk}:confirmation:v1:email",
        f"callback:{callback.pk}:confirmation:v1:sms",
    ]
    sms = Notification.objects.get(channel="sms")
    assert sms.recipient == "+8613800138000" and sms.language == "zh"
    assert "2026年11月23日（周一）14:00–14:30 (Asia/Shanghai)" in sms.body
    assert "/callbacks/" in sms.body and "Ana" in sms.body
    email = Notification.objects.get(channel="email")
    assert email.subject.startswith("您的回电已预约")
    assert "BEGIN:VCALENDAR\r\n" in email.ics and "DTSTART:20261123T060000Z\r\n" in email.ics
    assert "DTEND:20261123T063000Z" in email.ics and "SEQUENCE:1" in email.ics


def test_notifications_are_sent_once_and_the_email_carries_the_ics_file(booked, settings, tmp_path) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    booked()

    first = send_due_notifications()
    again = send_due_notifications()

    assert (first.sent, again.sent) == (2, 0)
    assert len(mail.outbox) == 1
    attachment = mail.outbox[0].attachments[0]
    assert attachment[0] == "callback.ics" and attachment[2].startswith("text/calendar")
    assert (tmp_path / "sms.log").read_text().count("\n") == 1
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.SENT}


def test_an_english_shopper_reads_english_in_her_own_time_zone(ticket_of, emma, ana) -> None:
    callback = book_callback(ticket=ticket_of(emma), scheduled_at=at_shanghai(24, 16), phone=emma.phone)
    sms = Notification.objects.get(callback=callback)
    # 16:00 in Shanghai is 09:00 in Berlin (UTC+1 in November).
    assert "Tue 24 Nov 2026, 09:00 (Europe/Berlin)" in sms.body
    assert sms.body.startswith("Callback booked:")
    assert not Notification.objects.filter(channel="email").exists()  # Emma gave no address


def test_bad_phone_and_long_note_are_refused_by_field_and_nothing_is_written(booked) -> None:
    with pytest.raises(ValidationError) as bad_phone:
        booked(phone="call me maybe")
    with pytest.raises(ValidationError) as long_note:
        booked(note="x" * 501)
    assert list(bad_phone.value.message_dict) == ["phone"]
    assert list(long_note.value.message_dict) == ["note"]
    assert Notification.objects.count() == 0


def test_a_closed_or_unrouted_inquiry_takes_no_callbacks(ticket_of, wang, ana) -> None:
    closed = ticket_of(wang, status=TicketStatus.CLOSED)
    with pytest.raises(CallbackError):
        book_callback(ticket=closed, scheduled_at=at_shanghai(23, 14), phone=wang.phone)
    unrouted = ticket_of(wang)
    unrouted.queue = None
    unrouted.save()
    with pytest.raises(CallbackError):
        book_callback(ticket=unrouted, scheduled_at=at_shanghai(23, 14), phone=wang.phone)


def test_a_resolved_inquiry_takes_no_callback_until_it_is_reopened(ticket_of, wang, ana, signed_in) -> None:
    resolved = ticket_of(wang, status=TicketStatus.RESOLVED)

    with pytest.raises(CallbackError, match=r"resolved|已解决"):
        book_callback(ticket=resolved, scheduled_at=at_shanghai(23, 14), phone=wang.phone, booked_by=ana.user)

    assert not Callback.objects.filter(ticket=resolved).exists() and Notification.objects.count() == 0
    page = signed_in(ana).get(f"/console/tickets/{resolved.id}/").text
    assert 'name="scheduled_at"' not in page


def test_rescheduling_moves_the_time_bumps_the_version_and_sends_a_new_notice(booked) -> None:
    callback = booked(at_shanghai(23, 14))
    moved = reschedule_callback(callback_id=callback.pk, scheduled_at=at_shanghai(24, 11))

    assert (moved.version, moved.status, moved.scheduled_at) == (2, CallbackStatus.SCHEDULED, at_shanghai(24, 11))
    assert moved.reminder_due_at == at_shanghai(24, 10)
    assert f"callback:{callback.pk}:rescheduled:v2:sms" in notification_keys()
    ics = Notification.objects.get(idempotency_key=f"callback:{callback.pk}:rescheduled:v2:email").ics
    assert "SEQUENCE:2" in ics and "DTSTART:20261124T030000Z" in ics


def test_a_shopper_cannot_reschedule_into_a_full_slot_but_the_callback_keeps_its_own_place(booked, settings) -> None:
    from callbacks.services import policy_for
    from tests.factories import queue

    policy = policy_for(queue("jewelry"))
    policy.callbacks_per_slot = 1
    policy.save()
    mine = booked(at_shanghai(23, 14))
    booked(at_shanghai(23, 15))
    with pytest.raises(ValidationError):
        reschedule_callback(callback_id=mine.pk, scheduled_at=at_shanghai(23, 15, 10))
    # Moving within its own slot is fine: it does not count against itself.
    assert reschedule_callback(callback_id=mine.pk, scheduled_at=at_shanghai(23, 14, 15)).version == 2


def test_confirming_is_idempotent_and_cancelling_twice_sends_one_notice(booked) -> None:
    callback = booked()
    first = confirm_callback(callback_id=callback.pk)
    again = confirm_callback(callback_id=callback.pk)
    assert first.confirmed_at == again.confirmed_at is not None

    cancel_callback(callback_id=callback.pk)
    cancel_callback(callback_id=callback.pk)
    cancelled = [k for k in notification_keys() if ":cancelled:" in k]
    assert cancelled == [f"callback:{callback.pk}:cancelled:v1:email", f"callback:{callback.pk}:cancelled:v1:sms"]
    with pytest.raises(CallbackError):
        confirm_callback(callback_id=callback.pk)
    with pytest.raises(InvalidCallbackTransition):
        reschedule_callback(callback_id=callback.pk, scheduled_at=at_shanghai(24, 11))


def test_a_reminder_is_not_planned_when_its_moment_has_already_passed(booked) -> None:
    soon = booked(at_shanghai(23, 10, 30))  # booked at 10:00 for 10:30: the lead is an hour
    assert soon.reminder_due_at is None
    later = booked(at_shanghai(23, 16))
    assert later.reminder_due_at == at_shanghai(23, 16) - timedelta(hours=1)


def test_an_inquiry_has_one_planned_callback_at_a_time(booked, ticket_of, wang, ana) -> None:
    """A double submit must not have two agents dial Wang: the second booking on the same inquiry
    is refused (nothing written) until the first is over; the database holds the line too."""
    from django.db import IntegrityError, transaction

    from callbacks.models import Callback

    ticket = ticket_of(wang)
    first = booked(at_shanghai(23, 14), ticket=ticket)
    with pytest.raises(CallbackError, match="already has a callback planned"):
        booked(at_shanghai(23, 16), ticket=ticket)
    assert Callback.objects.filter(ticket=ticket).count() == 1
    assert Notification.objects.filter(callback__ticket=ticket).count() == 2  # the first's confirmation only

    with pytest.raises(IntegrityError), transaction.atomic():
        Callback.objects.create(
            ticket=ticket, queue=ticket.queue, booked_by="agent", phone=wang.phone, scheduled_at=at_shanghai(23, 16)
        )

    cancel_callback(callback_id=first.pk)
    again = booked(at_shanghai(23, 16), ticket=ticket)  # once the first is over, a new one is fine
    assert again.status == CallbackStatus.SCHEDULED


def test_a_shopper_cannot_move_a_callback_while_an_agent_is_calling(booked, ana) -> None:
    from callbacks.services import start_callback

    callback = booked(at_shanghai(23, 14))
    start_callback(callback_id=callback.pk, by=ana.user)
    with pytest.raises(CallbackError, match="calling you right now"):
        reschedule_callback(callback_id=callback.pk, scheduled_at=at_shanghai(24, 11))
    callback.refresh_from_db()
    assert (callback.status, callback.version, callback.started_by_id) == (
        CallbackStatus.IN_PROGRESS,
        1,
        ana.user_id,
    )


def test_a_cancellation_email_carries_a_calendar_cancel(booked, settings, tmp_path) -> None:
    """The attachment's method must match the file's METHOD, or a calendar keeps the event."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    callback = booked()
    cancel_callback(callback_id=callback.pk)
    send_due_notifications()

    by_subject = {message.subject: message for message in mail.outbox}
    cancelled = next(m for s, m in by_subject.items() if "取消" in s)
    booked_mail = next(m for s, m in by_subject.items() if "预约" in s)
    cancel_parts, booked_parts = cancelled.message().get_payload(), booked_mail.message().get_payload()
    assert isinstance(cancel_parts, list) and isinstance(booked_parts, list)
    cancel_part = cancel_parts[1]
    assert cancel_part.get_content_type() == "text/calendar"
    assert (
        cancel_part.get_param("method") == "CANCEL" and "METHOD:CANCEL" in cancel_part.get_payload(decode=True).decode()
    )
    assert booked_parts[1].get_param("method") == "PUBLISH"


def test_a_chinese_shopper_is_told_the_queue_in_chinese(booked) -> None:
    booked(at_shanghai(23, 14), owner=None)
    sms = Notification.objects.get(channel="sms")
    assert "我们的珠宝首饰专员" in sms.body
