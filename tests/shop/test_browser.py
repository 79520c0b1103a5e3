"""A shopper on a phone and on a desktop, in English and in Chinese, in a real browser (Chromium)
against the product served by uvicorn: open an inquiry with a photo, ask for a person and see one
take it, see the reply arrive without a reload, see the resolution and rate the service; and the
page with JavaScript off."""

import re
from pathlib import Path

import pytest

from routing.services import reply_to_shopper, resolve_ticket, set_agent_status
from satisfaction.models import Rating
from teams.models import AgentStatus
from tests.factories import queue
from tests.helpers import SCREENSHOTS
from tests.photos import jpeg_with_location
from tickets.models import Attachment, Ticket

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # PostgreSQL: SQLite's shared in-memory database locks tables between the server's threads.
    pytest.mark.usefixtures("eager_celery", "postgres"),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# A live change shows within about a second; these bounds are for a loaded shared CI machine,
# where a request that opens an inquiry (and routes it, eagerly here) can take seconds.
LIVE_MS = 10_000
LOADED_MACHINE_MS = 30_000
SHOTS = SCREENSHOTS / "shop"

TEXT = {
    "en": {
        "locale": "en-US",
        "body": "The clasp of my bracelet broke after two days.",
        "how": "How can we help?",
        "waiting": r"Waiting for a specialist, about \d+ minutes?\.",
        "talk": "Talk to a person",
        "took": r"Ana took your inquiry at \d\d:\d\d\.",
        "on_it": "Ana from our {team} team is on it.",
        "reply": "Sorry about that! Send it back and we repair it for free.",
        "resolved": "Resolved.",
        "send": "Send",
        "how_did_we_do": "How did we do?",
        "comment": "Quick and kind, thank you!",
        "rate": "Send my rating",
        "rated": "You rated our service 5 out of 5.",
    },
    "zh": {
        "locale": "zh-CN",
        "body": "手链戴了两天扣子就断了",
        "how": "请问遇到了什么问题？",
        "waiting": r"正在等待专业客服，预计约 \d+ 分钟。",
        "talk": "转人工",
        "took": r"Ana 已于 \d\d:\d\d 接手您的咨询。",
        "on_it": "{team}团队的 Ana 正在为您处理。",
        "reply": "很抱歉！请寄回，我们免费维修。",
        "resolved": "已解决。",
        "send": "发送",
        "how_did_we_do": "您对我们的服务满意吗？",
        "comment": "处理得很快，谢谢！",
        "rate": "提交评价",
        "rated": "您给我们的服务打了 5 分（满分 5 分）。",
    },
}


@pytest.fixture
def shots(screenshots: Path) -> Path:
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        return SHOTS
    except OSError:
        return screenshots


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_shopper_opens_an_inquiry_with_a_photo_reaches_a_person_sees_the_reply_live_and_rates_us(
    console_server, browser, expect, shots, ana, tmp_path, lang, size
) -> None:
    t = TEXT[lang]
    set_agent_status(agent=ana, status=AgentStatus.OFFLINE)  # nobody free: the inquiry waits
    picture = tmp_path / "clasp.jpg"
    picture.write_bytes(jpeg_with_location())
    page = browser.new_page(
        viewport=PHONE if size == "phone" else DESKTOP, locale=t["locale"], is_mobile=size == "phone"
    )
    name = f"{lang}-{size}"
    page.set_default_timeout(LOADED_MACHINE_MS)
    try:
        page.goto(f"{console_server}/shop/")
        page.get_by_label(t["how"]).fill(t["body"])
        page.locator("#inquiry_order_number").fill("JD20261125001")
        page.locator("#inquiry_photos").set_input_files(str(picture))
        page.locator("#inquiry_email").fill("wang@example.com")
        page.screenshot(path=str(shots / f"{name}-1-new.png"), full_page=True)
        page.locator("#inquiry-form").get_by_role("button", name=t["send"]).click()

        page.wait_for_url(re.compile(r"/shop/inquiries/\d+/$"))
        ticket = Ticket.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[-1]))
        expect(page.locator(".status-line")).to_have_text(re.compile(t["waiting"]))
        expect(page.locator("#conversation")).to_contain_text(t["body"])
        assert Attachment.objects.filter(message__ticket=ticket).count() == 1
        expect(page.locator("#conversation .msg-photos img")).to_be_visible(timeout=5_000)  # thumbnail made
        page.evaluate("window.sameDocument = true")  # gone if the page reloads

        page.get_by_role("button", name=t["talk"]).click()
        expect(page.locator(".handoff-asked")).to_be_visible()
        page.screenshot(path=str(shots / f"{name}-2-waiting.png"), full_page=True)
        page.evaluate("window.sameDocument = true")

        set_agent_status(agent=ana, status=AgentStatus.ONLINE)  # Ana comes online and takes it
        expect(page.locator("#person-took")).to_have_text(re.compile(t["took"]), timeout=LIVE_MS)
        # Nothing on the page still says "front of the line" once a person has it.
        expect(page.locator(".handoff-asked")).to_have_count(0)
        expect(page.locator(".flash")).to_have_count(0)
        jewelry = queue("jewelry")
        team = jewelry.name_zh if lang == "zh" else jewelry.name
        expect(page.locator(".status-line")).to_have_text(t["on_it"].format(team=team))
        expect(page.get_by_role("button", name=t["talk"])).to_have_count(0)

        reply_to_shopper(ticket_id=ticket.id, by=ana.user, body=t["reply"])
        expect(page.locator("#conversation .msg-agent").last).to_contain_text(t["reply"], timeout=LIVE_MS)
        assert page.evaluate("window.sameDocument") is True, "the reply arrived without a reload"
        page.screenshot(path=str(shots / f"{name}-3-reply.png"), full_page=True)

        resolve_ticket(ticket_id=ticket.id, by=ana.user)
        expect(page.locator(".status-line")).to_contain_text(t["resolved"], timeout=LIVE_MS)
        expect(page.locator("#rate")).to_contain_text(t["how_did_we_do"], timeout=LIVE_MS)
        assert page.evaluate("window.sameDocument") is True, "the question arrived without a reload"
        page.screenshot(path=str(shots / f"{name}-4-resolved.png"), full_page=True)

        page.locator("#rate-form label[for=rating_score_4]").click()  # 5: very happy
        page.locator("#rating_comment").fill(t["comment"])
        page.locator("#rate").screenshot(path=str(shots / f"{name}-5-rating.png"))
        page.get_by_role("button", name=t["rate"]).click()
        expect(page.locator(".rate-given")).to_contain_text(t["rated"])
        expect(page.locator("#rate")).to_contain_text(t["comment"])
        assert page.url.endswith("#rate")
        rating = Rating.objects.get(ticket=ticket)
        assert (rating.score, rating.comment) == (5, t["comment"])
        page.screenshot(path=str(shots / f"{name}-6-rated.png"), full_page=True)
    finally:
        page.context.close()


def test_a_refused_file_is_explained_on_the_page(console_server, browser, expect, shots, tmp_path) -> None:
    fake = tmp_path / "receipt.jpg"
    fake.write_bytes(b"%PDF-1.7 this is not a photo" * 20)
    page = browser.new_page(viewport=PHONE, locale="en-US", is_mobile=True)
    try:
        page.goto(f"{console_server}/shop/")
        page.get_by_label("How can we help?").fill("see the receipt")
        page.locator("#inquiry_photos").set_input_files(str(fake))
        page.locator("#inquiry_email").fill("wang@example.com")
        page.locator("#inquiry-form").get_by_role("button", name="Send").click()
        expect(page.locator(".field-error")).to_contain_text("“receipt.jpg” is not a photo we accept")
        page.screenshot(path=str(shots / "en-phone-refused-file.png"), full_page=True)
        assert not Ticket.objects.exists()
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_with_javascript_off_the_page_shows_the_conversation_and_its_forms_still_post(
    console_server, browser, expect, shots, ana, lang
) -> None:
    t = TEXT[lang]
    page = browser.new_page(viewport=PHONE, locale=t["locale"], is_mobile=True, java_script_enabled=False)
    page.set_default_timeout(LOADED_MACHINE_MS)
    try:
        page.goto(f"{console_server}/shop/")
        page.get_by_label(t["how"]).fill(t["body"])
        page.locator("#inquiry_email").fill("wang@example.com")
        page.locator("#inquiry-form").get_by_role("button", name=t["send"]).click()
        page.wait_for_url(re.compile(r"/shop/inquiries/\d+/$"))
        ticket = Ticket.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[-1]))
        expect(page.locator("#no-script")).to_be_visible()
        expect(page.locator("#conversation")).to_contain_text(t["body"])

        reply_to_shopper(ticket_id=ticket.id, by=ana.user, body=t["reply"])
        page.locator("#no-script a").click()  # "Reload"
        expect(page.locator("#conversation .msg-agent")).to_contain_text(t["reply"])

        page.locator("#message_body").fill("OK, sending it back today.")
        page.locator("#message-form").get_by_role("button", name=t["send"]).click()
        expect(page.locator("#conversation .msg-shopper").last).to_contain_text("OK, sending it back today.")

        resolve_ticket(ticket_id=ticket.id, by=ana.user)
        page.reload()
        page.locator("#rate-form label[for=rating_score_3]").click()
        page.get_by_role("button", name=t["rate"]).click()
        expect(page.locator(".rate-given")).to_be_visible()
        assert Rating.objects.get(ticket=ticket).score == 4
        page.screenshot(path=str(shots / f"{lang}-phone-no-script.png"), full_page=True)
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_shopper_over_the_limit_is_told_when_to_try_again(
    console_server, browser, expect, shots, settings, lang, size
) -> None:
    settings.SHOP_THROTTLE_RATES = {
        "inquiry": {"ip": "1/hour", "session": "1/hour"},
        "message": {"ip": "60/minute", "session": "12/minute"},
    }
    t = TEXT[lang]
    page = browser.new_page(
        viewport=PHONE if size == "phone" else DESKTOP, locale=t["locale"], is_mobile=size == "phone"
    )
    page.set_default_timeout(LOADED_MACHINE_MS)
    try:
        for attempt in range(2):
            page.goto(f"{console_server}/shop/")
            page.get_by_label(t["how"]).fill(f"{t['body']} ({attempt + 1})")
            page.locator("#inquiry_email").fill("wang@example.com")
            page.locator("#inquiry-form").get_by_role("button", name=t["send"]).click()
        expect(page.locator("#slow-down")).to_be_visible()
        expect(page.locator("#slow-down-written")).to_have_value(f"{t['body']} (2)")
        assert Ticket.objects.count() == 1
        page.screenshot(path=str(shots / f"{lang}-{size}-slow-down.png"), full_page=True)
    finally:
        page.context.close()
