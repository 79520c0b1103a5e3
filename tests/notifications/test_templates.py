"""Notification texts come from templates per language that an admin edits (with a preview); a
language without its template falls back to English; a broken template cannot be saved."""

import pytest
from django.core import mail
from django.test import Client

from notifications.models import NotificationTemplate
from notifications.services.outbox import send_due_notifications
from routing.services import reply_to_shopper
from tests.factories import ShopperFactory
from tests.notifications.conftest import MONDAY_10_SHANGHAI
from tickets.models import Channel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

LATER = MONDAY_10_SHANGHAI.replace(minute=1)


def test_the_migration_seeds_every_kind_channel_and_language() -> None:
    seeded = set(NotificationTemplate.objects.values_list("kind", "channel", "language"))
    assert seeded == {
        (kind, channel, language)
        for kind in ("reply", "resolved", "reopened")
        for channel in ("email", "sms")
        for language in ("en", "zh-hans")
    }


def test_each_shopper_gets_the_text_of_their_language(ana, wang, ticket_of) -> None:
    emily = ShopperFactory(email="emily@example.com", language="en", name="Emily")
    for shopper in (wang, emily):
        reply_to_shopper(ticket_id=ticket_of(shopper, channel=Channel.EMAIL).pk, by=ana.user, body="OK")
    send_due_notifications(now=LATER)
    subjects = {m.to[0]: m.subject.split(" #")[0] for m in mail.outbox}
    assert subjects == {"wang@example.cn": "Ana回复了您的咨询", "emily@example.com": "Ana replied to your inquiry"}


def test_an_admins_edit_changes_the_next_notification(ana, wang, ticket_of) -> None:
    NotificationTemplate.objects.filter(kind="reply", channel="email", language="zh-hans").update(
        subject="【新回复】{{ agent_name }}：{{ message|truncatechars:10 }}"
    )
    reply_to_shopper(ticket_id=ticket_of(wang).pk, by=ana.user, body="我们今天为您补发新手链")
    send_due_notifications(now=LATER)
    assert mail.outbox[0].subject == "【新回复】Ana：我们今天为您补发新…"


def test_a_language_without_its_template_falls_back_to_english(ana, wang, ticket_of) -> None:
    NotificationTemplate.objects.filter(kind="reply", language="zh-hans").delete()
    reply_to_shopper(ticket_id=ticket_of(wang).pk, by=ana.user, body="OK")
    send_due_notifications(now=LATER)
    assert mail.outbox[0].subject.startswith("Ana replied to your inquiry #")


def test_text_is_not_html_escaped(ana, wang, ticket_of) -> None:
    reply_to_shopper(ticket_id=ticket_of(wang).pk, by=ana.user, body='Size "S" & <small> fits')
    send_due_notifications(now=LATER)
    assert 'Size "S" & <small> fits' in mail.outbox[0].body


def test_the_admin_refuses_a_template_that_does_not_compile(sam) -> None:
    template = NotificationTemplate.objects.get(kind="reply", channel="sms", language="en")
    admin = Client()
    admin.force_login(sam.user)
    response = admin.post(
        f"/admin/notifications/notificationtemplate/{template.pk}/change/",
        {"kind": "reply", "channel": "sms", "language": "en", "subject": "", "body": "Hi {% if %}"},
    )
    assert response.status_code == 200
    assert "Template error" in response.content.decode()
    template.refresh_from_db()
    assert "{% if %}" not in template.body


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Ana replied to your inquiry #1024"), ("zh-hans", "安娜回复了您的咨询 #1024")]
)
def test_the_admin_preview_renders_a_template_with_a_sample_inquiry(sam, language, expected) -> None:
    template = NotificationTemplate.objects.get(kind="reply", channel="email", language=language)
    admin = Client()
    admin.force_login(sam.user)
    change = admin.get(f"/admin/notifications/notificationtemplate/{template.pk}/change/")
    assert f"/admin/notifications/notificationtemplate/{template.pk}/preview/" in change.content.decode()
    page = admin.get(f"/admin/notifications/notificationtemplate/{template.pk}/preview/")
    assert page.status_code == 200
    assert expected in page.content.decode()


def test_agents_without_admin_rights_cannot_open_the_preview(ana) -> None:
    template = NotificationTemplate.objects.first()
    assert template is not None
    client = Client()
    client.force_login(ana.user)
    response = client.get(f"/admin/notifications/notificationtemplate/{template.pk}/preview/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
