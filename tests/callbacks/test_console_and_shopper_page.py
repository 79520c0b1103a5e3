"""Ana books and works callbacks from the console; Wang manages hers through the signed link."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client

from callbacks.links import SALT, make_link_token
from callbacks.models import Callback, CallbackStatus
from callbacks.services import dispatch_due_callbacks
from tests.helpers import at_shanghai

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def signed_in(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def flash(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_the_ticket_page_shows_the_booking_form_with_the_shoppers_phone(ticket_of, wang, ana) -> None:
    ticket = ticket_of(wang)
    page = signed_in(ana).get(f"/console/tickets/{ticket.id}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="book-callback-form"' in html and 'value="+8613800138000"' in html
    assert "Times in your time zone (Asia/Shanghai)" in html


def test_ana_books_a_callback_in_her_own_time_zone(ticket_of, wang, ana) -> None:
    ticket = ticket_of(wang)
    response = signed_in(ana).post(
        f"/console/callbacks/tickets/{ticket.id}/book/",
        {"scheduled_at": "2026-11-23T15:00", "window": "30", "phone": "138 0013 8000", "owner": "me", "note": "尺寸"},
        follow=True,
    )
    callback = Callback.objects.get()
    assert callback.scheduled_at == at_shanghai(23, 15)  # 15:00 in Shanghai, stored as 07:00 UTC
    assert callback.window_end == at_shanghai(23, 15, 30)
    assert (callback.owner_id, callback.phone, callback.booked_by) == (ana.user_id, "13800138000", "agent")
    assert any("Callback booked" in m for m in flash(response))
    assert 'id="callback-' in response.content.decode()


def test_a_bad_booking_comes_back_as_a_message_never_an_error_page(ticket_of, wang, ana) -> None:
    ticket = ticket_of(wang)
    client = signed_in(ana)
    outside = client.post(
        f"/console/callbacks/tickets/{ticket.id}/book/",
        {"scheduled_at": "2026-11-23T21:00", "window": "0", "phone": "+8613800138000", "owner": "me"},
        follow=True,
    )
    garbage = client.post(
        f"/console/callbacks/tickets/{ticket.id}/book/",
        {"scheduled_at": "tomorrow-ish", "window": "7", "phone": "", "owner": "nobody"},
        follow=True,
    )
    assert outside.status_code == garbage.status_code == 200
    assert any("outside the queue's business hours" in m for m in flash(outside))
    assert any("not booked" in m for m in flash(garbage))
    assert Callback.objects.count() == 0


def test_an_agent_who_cannot_see_the_ticket_cannot_book_on_it(ticket_of, wang, mei) -> None:
    ticket = ticket_of(wang)
    response = signed_in(mei).post(
        f"/console/callbacks/tickets/{ticket.id}/book/",
        {"scheduled_at": "2026-11-23T15:00", "window": "0", "phone": "+8613800138000", "owner": "me"},
    )
    assert response.status_code == 404
    assert Callback.objects.count() == 0


def test_a_due_callback_tops_the_inbox_and_is_worked_from_there(booked, ana) -> None:
    callback = booked(at_shanghai(23, 14))
    client = signed_in(ana)
    with time_machine.travel(at_shanghai(23, 14, 1), tick=False):
        dispatch_due_callbacks()
        inbox = client.get("/console/").content.decode()
        assert inbox.index('id="due-callbacks"') < inbox.index('id="my-tickets"')
        assert f'id="due-callback-{callback.id}"' in inbox and "For you" in inbox

        client.post(f"/console/callbacks/{callback.id}/start/", {"next": "/console/"})
        callback.refresh_from_db()
        assert callback.status == CallbackStatus.IN_PROGRESS
        live = client.get("/console/inbox/live/").content.decode()
        assert f'action="/console/callbacks/{callback.id}/outcome/"' in live
        assert 'name="next" value="/console/"' in live  # back to the page, not the fragment

        done = client.post(f"/console/callbacks/{callback.id}/outcome/", {"outcome": "reached", "next": "/console/"})
    assert done.status_code == 302 and done["Location"] == "/console/"
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.COMPLETED


def test_an_agent_of_another_queue_cannot_work_the_callback(booked, mei) -> None:
    callback = booked(at_shanghai(23, 14), owner=None)
    response = signed_in(mei).post(f"/console/callbacks/{callback.id}/start/", follow=True)
    assert any("No callback of yours" in m for m in flash(response))
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.SCHEDULED


def test_the_ticket_live_fragment_carries_the_callbacks_but_not_the_booking_form(booked, ana) -> None:
    callback = booked(at_shanghai(23, 14))
    live = signed_in(ana).get(f"/console/tickets/{callback.ticket_id}/live/").content.decode()
    assert 'id="ticket-callbacks"' in live and f'id="callback-{callback.id}"' in live
    assert "book-callback-form" not in live


# --- The shopper's page -----------------------------------------------------------------------------


def test_the_shopper_page_speaks_the_shoppers_language_and_time_zone(booked) -> None:
    callback = booked(at_shanghai(23, 14))
    page = Client().get(f"/callbacks/{make_link_token(callback.pk)}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "2026年11月23日（周一）14:00 (Asia/Shanghai)" in html
    assert "您的回电" in html and "确认这个时间" in html


def test_the_shopper_confirms_reschedules_and_cancels_through_the_link(booked) -> None:
    callback = booked(at_shanghai(23, 14))
    token = make_link_token(callback.pk)
    shopper = Client(enforce_csrf_checks=False)
    shopper.post(f"/callbacks/{token}/confirm/")
    callback.refresh_from_db()
    assert callback.confirmed_at is not None

    page = shopper.get(f"/callbacks/{token}/").content.decode()
    slots = re.findall(r'<option value="([^"]+)"', page)
    shopper.post(f"/callbacks/{token}/reschedule/", {"slot": slots[3]})
    callback.refresh_from_db()
    assert callback.version == 2 and callback.scheduled_at.isoformat() == slots[3]
    assert callback.window_end == callback.scheduled_at + timedelta(minutes=30)  # the whole slot

    shopper.post(f"/callbacks/{token}/cancel/")
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CANCELLED
    gone = shopper.get(f"/callbacks/{token}/")
    assert gone.status_code == 410 and "此回电已取消" in gone.content.decode()  # the link died with it


def test_a_shopper_books_again_after_a_missed_callback(booked) -> None:
    callback = booked(at_shanghai(23, 14))
    Callback.objects.filter(pk=callback.pk).update(status=CallbackStatus.MISSED, missed_at=callback.scheduled_at)
    token = make_link_token(callback.pk)
    shopper = Client()
    page = shopper.get(f"/callbacks/{token}/").content.decode()
    slot = re.findall(r'<option value="([^"]+)"', page)[0]
    response = shopper.post(f"/callbacks/{token}/book/", {"slot": slot})
    new = Callback.objects.exclude(pk=callback.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/callbacks/{make_link_token(new.pk)}/"
    assert (new.status, new.booked_by, new.phone) == (CallbackStatus.SCHEDULED, "shopper", callback.phone)


def test_a_forged_slot_is_refused_with_a_message(booked) -> None:
    callback = booked(at_shanghai(23, 14))
    token = make_link_token(callback.pk)
    response = Client().post(f"/callbacks/{token}/reschedule/", {"slot": "2026-11-23T23:00:00+00:00"}, follow=True)
    assert response.status_code == 200
    assert any("没有成功" in m or "did not work" in m for m in flash(response))
    callback.refresh_from_db()
    assert callback.version == 1


def test_a_tampered_link_gets_a_clear_400_page(booked) -> None:
    callback = booked(at_shanghai(23, 14))
    token = make_link_token(callback.pk)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    response = Client().get(f"/callbacks/{tampered}/")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    forged = signing.dumps({"c": callback.pk}, salt="another-salt")
    assert Client().get(f"/callbacks/{forged}/").status_code == 400
    assert Client().post(f"/callbacks/{tampered}/cancel/").status_code == 400
    assert signing.loads(token, salt=SALT) == {"c": callback.pk}


def test_an_expired_link_gets_a_clear_410_page_and_changes_nothing(booked, settings) -> None:
    settings.CALLBACK_LINK_MAX_AGE_DAYS = 7
    callback = booked(at_shanghai(23, 14))
    token = make_link_token(callback.pk)
    with time_machine.travel(at_shanghai(23, 10) + timedelta(days=8), tick=False):
        page = Client().get(f"/callbacks/{token}/")
        cancel = Client().post(f"/callbacks/{token}/cancel/")
    assert page.status_code == cancel.status_code == 410
    assert "This link has expired" in page.content.decode()
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.SCHEDULED


def test_while_ana_is_calling_the_shopper_page_offers_no_other_time(booked, ana) -> None:
    from callbacks.services import start_callback

    callback = booked(at_shanghai(23, 14))
    start_callback(callback_id=callback.pk, by=ana.user)
    token = make_link_token(callback.pk)
    page = Client().get(f"/callbacks/{token}/").content.decode()
    assert "我们正在给您打电话。" in page and "/reschedule/" not in page
    response = Client().post(f"/callbacks/{token}/reschedule/", {"slot": at_shanghai(24, 11).isoformat()}, follow=True)
    assert response.status_code == 200 and any("无法改约" in m for m in flash(response))
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.IN_PROGRESS and callback.version == 1


def test_the_ticket_page_in_chinese_writes_callback_times_in_chinese(booked, ana) -> None:
    callback = booked(at_shanghai(23, 14), window_end=at_shanghai(23, 14, 30))
    client = signed_in(ana)
    html = client.get(f"/console/tickets/{callback.ticket_id}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "11月23日（周一）14:00–14:30" in html and "Mon 23 Nov" not in html
    english = client.get(f"/console/tickets/{callback.ticket_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Mon 23 Nov 14:00–14:30" in english


def test_the_shopper_is_not_offered_their_own_time_as_another_time(booked) -> None:
    callback = booked(at_shanghai(23, 14))
    html = Client().get(f"/callbacks/{make_link_token(callback.pk)}/").content.decode()
    offered = re.findall(r'<option value="([^"]+)"', html)
    assert offered, "other free slots are offered"
    assert callback.scheduled_at.isoformat() not in offered
