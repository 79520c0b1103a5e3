"""In a real browser (Chromium): how long a ticket has waited moves on the page by itself, in the
interface language, so a live fragment is re-rendered only when what it shows changed
(CONSOLE_LIVE_MAX_AGE_SECONDS is a safety bound, not the clocks' tick); and a late "waiting" hint
about a ticket the page already heard leave (another server process's) sends no one to re-read.
"""

import time

import pytest

from console.push import HINT_TYPE, queue_group, send_hint
from routing.services import set_agent_status
from teams.models import AgentStatus
from tests.factories import queue
from tests.helpers import PHONE_AND_DESKTOP_IN_BOTH_LANGUAGES, open_inquiry, signed_in_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("eager_celery"),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

WAITED = {
    "zh-CN": ("不到一分钟", "3 分钟", "2 小时 5 分钟前"),
    "en-US": ("under a minute", "3 min", "2 h 5 min ago"),
}


@PHONE_AND_DESKTOP_IN_BOTH_LANGUAGES
def test_waiting_times_move_on_the_page_without_a_re_read(
    console_server, browser, expect, screenshots, ana, storefront_token, viewport, locale
) -> None:
    set_agent_status(agent=ana, status=AgentStatus.AWAY)  # her choice: the ticket waits in her line
    waiting = open_inquiry(console_server, storefront_token, "手链的扣子坏了")
    under_a_minute, three_minutes, opened_ago = WAITED[locale]
    page = signed_in_page(browser, console_server, ana.user, locale, viewport)
    page.clock.install()
    size = "phone" if viewport["width"] < 500 else "desktop"
    try:
        page.goto(f"{console_server}/console/")
        row = page.locator(f'#waiting-tickets tr[data-ticket-id="{waiting["id"]}"]')
        expect(row.locator("time[data-waited-since]")).to_have_text(under_a_minute)
        expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
        # The page's clock runs three minutes ahead; the server's has not moved, so whatever it
        # rendered would still say "under a minute": only the page can show three minutes.
        page.clock.run_for("03:05")
        expect(row.locator("time[data-waited-since]")).to_have_text(three_minutes)
        page.screenshot(path=str(screenshots / f"inbox-waited-{size}-{locale}.png"), full_page=True)

        page.goto(f"{console_server}/console/tickets/{waiting['id']}/")
        opened = page.locator("time[data-waited-ago]")
        expect(opened).to_have_text(WAITED[locale][0] + ("前" if locale == "zh-CN" else " ago"))
        page.clock.run_for("02:05:00")
        expect(opened).to_have_text(opened_ago)
        page.screenshot(path=str(screenshots / f"ticket-opened-ago-{size}-{locale}.png"), full_page=True)
    finally:
        page.context.close()


def test_a_late_waiting_hint_about_a_ticket_that_left_sends_no_one_to_read_the_line(
    console_server, browser, expect, ana, settings
) -> None:
    """Hints come from several processes: "assigned" (left) can arrive before the "queued" that
    preceded it. The page that heard it leave, and has since forgotten its line, must not take the
    late "queued" for a new ticket and read the line once its grace ran out; a ticket that really
    queues again afterwards still is."""
    settings.CONSOLE_QUEUE_HINT_SECONDS = 1  # line grace: 0.5 + 2 s
    set_agent_status(agent=ana, status=AgentStatus.AWAY)
    jewelry = queue("jewelry")
    page = signed_in_page(browser, console_server, ana.user, "en-US", {"width": 1280, "height": 800})
    line_reads: list[float] = []
    page.on(
        "request",
        lambda request: line_reads.append(time.monotonic()) if "/console/inbox/live/lines/" in request.url else None,
    )

    def hint(status: str, at_ms: int) -> None:
        send_hint(
            [queue_group(jewelry.id)],
            {"type": HINT_TYPE, "ticket_id": 990001, "status": status, "queue_id": jewelry.id, "kind": "status",
             "line": {990001: (status, at_ms)}},
        )  # fmt: skip

    try:
        page.goto(f"{console_server}/console/")
        expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
        page.wait_for_timeout(1_000)  # the reads of the opening socket
        now_ms = int(time.time() * 1000)
        start = len(line_reads)
        hint("assigned", now_ms)  # it left: nothing on screen to change, no read
        page.wait_for_timeout(2_500)  # the page's shared timer came and forgot its line
        hint("queued", now_ms - 50)  # the change before it, from a slower process
        page.wait_for_timeout(5_000)  # past the grace, with room for the page's timers
        assert line_reads[start:] == [], "the late 'queued' hint sent the page to read the line"

        hint("queued", now_ms + 10_000)  # it really waits again: read once its grace ran out
        deadline = time.monotonic() + 10
        while len(line_reads) == start:
            assert time.monotonic() < deadline, "a ticket waiting again was never read"
            page.wait_for_timeout(100)
    finally:
        page.context.close()
