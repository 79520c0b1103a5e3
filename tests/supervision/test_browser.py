"""Supervisor Sam watches the dashboard in a real browser (Chromium) against the product on uvicorn.

Intake and routing run inside the server (eager Celery); hints travel over the configured channel
layer (Redis in CI). Screenshots go to var/screenshots/.
"""

import time

import pytest

from tests.factories import AgentFactory, UserFactory
from tests.helpers import log_in, open_inquiry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("eager_celery"),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

COUNT_FETCHES = """() => {
  window.liveFetches = 0;
  const original = window.fetch;
  window.fetch = function (url) {
    if (String(url).indexOf("/console/dashboard/live/") !== -1) window.liveFetches += 1;
    return original.apply(this, arguments);
  };
  window.sameDocument = true;
}"""


# The page polls every 5 s until its socket opens (then every 30-60 s): no 5 s poll at all here.
NO_POLL = """(() => {
  const original = window.setTimeout;
  window.setTimeout = function (callback, ms) {
    if (ms === 5000) return 0;  // the fallback poll of a page whose socket is not open
    return original.apply(this, arguments);
  };
})();"""


def test_sam_sees_the_jewelry_tile_count_a_new_inquiry_live(
    console_server, page, expect, screenshots, sam, storefront_token
) -> None:
    # No poll in this test: the tile must change because a websocket hint arrived.
    page.add_init_script(NO_POLL)
    log_in(page, console_server, "sam")
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url(f"{console_server}/console/dashboard/")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
    waiting = page.locator('.tile[data-queue="jewelry"] [data-metric="waiting"]')
    expect(waiting).to_have_text("0")
    page.evaluate(COUNT_FETCHES)

    # Nobody serves jewelry right now: the inquiry waits, and the tile counts it without a reload.
    open_inquiry(console_server, storefront_token, "戒指的钻石掉了一颗，怎么办？")

    expect(waiting).to_have_text("1", timeout=4_000)  # pushed: the hint, then one re-read after the cache
    assert page.evaluate("window.sameDocument") is True
    page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)

    # A burst of arrivals (several hints each) costs at most about one re-read per second.
    page.evaluate("window.liveFetches = 0")
    started = time.monotonic()
    for n in range(5):
        open_inquiry(console_server, storefront_token, f"手链断了第{n}次，能修吗？")
    expect(waiting).to_have_text("6", timeout=6_000)
    elapsed = time.monotonic() - started
    fetches = page.evaluate("window.liveFetches")
    assert 1 <= fetches <= elapsed + 3, (fetches, elapsed)
    assert page.evaluate("window.sameDocument") is True


def test_a_form_page_without_live_content_shows_no_live_indicator(console_server, page, expect, sam) -> None:
    log_in(page, console_server, "sam")
    page.goto(f"{console_server}/console/dashboard/agents/{sam.pk}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # No "Connecting…" that never ends on a page with nothing to keep live.
    expect(page.locator("#live-indicator")).to_be_hidden()


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_shared_render_swaps_in_live_in_both_languages_and_sizes(
    console_server, browser, expect, screenshots, sam, storefront_token, locale, size
) -> None:
    """The live fragment is the shared render of the parts plus Sam's own header: the tile changes
    in place, in the page's language, at phone and desktop widths."""
    viewport = {"width": 390, "height": 844} if size == "phone" else {"width": 1280, "height": 800}
    # Sam's saved language wins over the browser's once he is signed in (the login form is English).
    sam.ui_language = "zh-hans" if locale == "zh-CN" else "en"
    sam.save(update_fields=["ui_language"])
    # Kai's console closed: he is on the agent board, with a status form in the shared render.
    AgentFactory.create(
        user=UserFactory.create(username="kai"), skills=["jewelry"], status="away", status_set_by_presence=True
    )
    page = browser.new_page(viewport=viewport, locale="en-US", is_mobile=size == "phone")
    try:
        page.add_init_script(NO_POLL)
        log_in(page, console_server, "sam")
        page.goto(f"{console_server}/console/dashboard/")
        expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
        waiting = page.locator('.tile[data-queue="jewelry"] [data-metric="waiting"]')
        expect(waiting).to_have_text("0")

        open_inquiry(console_server, storefront_token, "戒指的钻石掉了一颗，怎么办？")

        expect(waiting).to_have_text("1", timeout=6_000)
        heading = "队列健康" if locale == "zh-CN" else "Queue health"
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        # The forms of the swapped-in parts carry Sam's own CSRF token, never the placeholder.
        tokens = page.locator('#agent-board input[name="csrfmiddlewaretoken"]')
        assert tokens.count() >= 1
        assert "placeholder" not in (tokens.first.get_attribute("value") or "")
        page.screenshot(path=str(screenshots / f"dashboard-live-{locale}-{size}.png"), full_page=True)
    finally:
        page.context.close()
