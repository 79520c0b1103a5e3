"""The public page's posts are limited per client address and per browser session: over the
limit a shopper gets a page in their language saying when to try again (429, Retry-After),
with what they wrote shown back; nothing is written. Reading is never limited."""

import pytest
from django.test import Client

from tests.helpers import shopper_of
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def tight_limits(settings) -> None:
    settings.SHOP_THROTTLE_RATES = {
        "inquiry": {"ip": "4/hour", "session": "2/hour"},
        "message": {"ip": "4/minute", "session": "2/minute"},
    }


def send_inquiry(browser: Client, body: str, address: str = "203.0.113.7"):
    return browser.post("/shop/", {"body": body, "email": "wang@example.com"}, REMOTE_ADDR=address)


def test_one_browser_opening_inquiry_after_inquiry_is_asked_to_wait(tight_limits, ana) -> None:
    browser = Client()
    # The first (a first visit, no browser id yet) counts by address only; then 2 per session.
    assert [send_inquiry(browser, f"第{n}个问题").status_code for n in range(3)] == [302, 302, 302]

    refused = send_inquiry(browser, "第三个问题：手链断了")  # the address (4/hour) would still allow it

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    html = refused.content.decode()
    assert "Please wait a moment" in html and "Nothing you sent before is lost." in html
    assert "第三个问题：手链断了" in html, "what they wrote is shown back"
    assert Ticket.objects.count() == 3


def test_many_browsers_from_one_address_are_held_by_the_address_limit(tight_limits, ana) -> None:
    statuses = [send_inquiry(Client(), f"问题{n}").status_code for n in range(5)]
    assert statuses == [302, 302, 302, 302, 429]
    # Another address is not held.
    assert send_inquiry(Client(), "另一个地址", address="198.51.100.9").status_code == 302


def test_message_posts_are_limited_per_session_and_the_page_still_reads(tight_limits, ana, inquiry) -> None:
    ticket = inquiry("戒指的钻石松了")
    browser = shopper_of(ticket)
    url = f"/shop/inquiries/{ticket.id}/messages/"
    assert [browser.post(url, {"body": f"补充{n}"}).status_code for n in range(2)] == [302, 302]

    refused = browser.post(url, {"body": "再补充一句"})

    assert refused.status_code == 429
    assert f'href="/shop/inquiries/{ticket.id}/"' in refused.content.decode()
    assert not Message.objects.filter(body="再补充一句").exists()
    assert browser.get(f"/shop/inquiries/{ticket.id}/").status_code == 200


def test_the_wait_page_speaks_chinese(tight_limits, ana) -> None:
    browser = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    for n in range(3):
        send_inquiry(browser, f"问题{n}")
    html = send_inquiry(browser, "问题").content.decode()
    assert "请稍候" in html and "之前发送的内容都不会丢失" in html


def test_a_cache_outage_never_refuses_a_shopper(tight_limits, ana, monkeypatch) -> None:
    def cache_down(*args: object, **kwargs: object) -> int:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr("core.throttling.count_in_window", cache_down)
    assert [send_inquiry(Client(), f"问题{n}").status_code for n in range(5)] == [302] * 5
