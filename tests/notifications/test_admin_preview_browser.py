"""An admin opens a notification template's preview in a real browser (Chromium), in English and
in Chinese, at desktop and phone width. Screenshots go to var/screenshots/notifications/."""

import pytest

from notifications.models import NotificationTemplate

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize(
    ("locale", "language", "expected"),
    [("en-US", "en", "Ana replied to your inquiry #1024"), ("zh-CN", "zh-hans", "安娜回复了您的咨询 #1024")],
)
def test_an_admin_previews_the_reply_email_and_sms_templates(
    console_server, browser, expect, screenshots, sam, locale, language, expected
) -> None:
    shots = screenshots / "notifications"
    shots.mkdir(exist_ok=True)
    email = NotificationTemplate.objects.get(kind="reply", channel="email", language=language)
    sms = NotificationTemplate.objects.get(kind="resolved", channel="sms", language=language)
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_page(viewport=viewport, locale=locale)
        try:
            page.goto(f"{console_server}/admin/login/?next=/admin/notifications/notificationtemplate/")
            page.locator("#id_username").fill("sam")
            page.locator("#id_password").fill("pw-for-tests")
            page.locator("input[type=submit]").click()
            page.wait_for_url(f"{console_server}/admin/notifications/notificationtemplate/")
            page.screenshot(path=str(shots / f"templates-list-{language}-{width}.png"), full_page=True)

            page.goto(f"{console_server}/admin/notifications/notificationtemplate/{email.pk}/change/")
            page.get_by_role("link", name="Preview" if language == "en" else "预览").first.click()
            page.wait_for_url(f"{console_server}/admin/notifications/notificationtemplate/{email.pk}/preview/")
            expect(page.locator(".envelope header")).to_contain_text(expected)
            page.screenshot(path=str(shots / f"preview-email-{language}-{width}.png"), full_page=True)

            page.goto(f"{console_server}/admin/notifications/notificationtemplate/{sms.pk}/preview/")
            expect(page.locator(".envelope.sms")).to_contain_text("1024")
            page.screenshot(path=str(shots / f"preview-sms-{language}-{width}.png"), full_page=True)
        finally:
            page.context.close()
