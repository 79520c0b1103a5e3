"""Supervisor Sam reads satisfaction on the dashboard in a real browser (Chromium), on a desktop
and a phone, in English and in Chinese, and follows up a low rating. Screenshots: var/screenshots/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from satisfaction.services import rate_ticket
from supervision.selectors import day_start
from tests.browser_rig import DESKTOP
from tests.helpers import log_in
from tests.helpers import ticket_on_timeline as ticket

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def rated_week(ana, mei) -> None:
    """Today: Ana's jewelry 5, 2 (low, with a comment), 4 and one unrated; Mei's 4. Earlier this
    week: Ana 3 and 1 (low)."""
    now = timezone.now()
    today = day_start(now)

    def resolved(queue: str, agent, at, score: int | None, comment: str = "") -> None:
        made = ticket(
            queue, queued=at - timedelta(minutes=1), assigned=at - timedelta(seconds=30), resolved=at, agent=agent
        )
        if score is not None:
            rate_ticket(ticket_id=made.pk, score=score, comment=comment)

    span = now - today
    for n, score in enumerate([5, 2, 4, None]):
        comment = "戒指有划痕，换货等了三天" if score == 2 else ""
        resolved("jewelry", ana, today + span * (n + 1) / 6, score, comment)
    resolved("maternal_baby", mei, today + span / 2, 4)
    resolved("jewelry", ana, today - timedelta(days=2), 3)
    resolved("jewelry", ana, today - timedelta(days=3), 1, "The clasp broke again and nobody called back.")


@pytest.mark.parametrize(
    ("viewport", "locale", "name"),
    [
        (DESKTOP, "en-US", "desktop-en"),
        (DESKTOP, "zh-CN", "desktop-zh"),
        (PHONE, "en-US", "phone-en"),
        (PHONE, "zh-CN", "phone-zh"),
    ],
)
def test_sam_reads_satisfaction_on_the_dashboard(
    console_server, browser, expect, screenshots, sam, rated_week, viewport, locale, name
) -> None:
    page = browser.new_page(viewport=viewport, locale=locale)
    try:
        page.goto(f"{console_server}/accounts/login/")
        page.locator("#id_username").fill("sam")
        page.locator("#id_password").fill("pw-for-tests")
        page.locator("button.btn-primary[type=submit]").click()
        page.wait_for_url(f"{console_server}/console/")
        page.goto(f"{console_server}/console/dashboard/")
        jewelry = page.locator('[data-csat="queue-jewelry"] td')
        expect(jewelry.nth(0)).to_have_text("3")  # today: 5, 2, 4
        expect(jewelry.nth(1)).to_have_text("67%")
        expect(jewelry.nth(2)).to_have_text("75%")  # 3 of 4 resolutions rated
        expect(page.locator(".low-rating")).to_have_count(2)
        page.locator("#satisfaction").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / f"csat-dashboard-{name}.png"), full_page=True)
        page.locator("#satisfaction").screenshot(path=str(screenshots / f"csat-table-{name}.png"))
        page.locator("#low-ratings").screenshot(path=str(screenshots / f"csat-low-ratings-{name}.png"))
    finally:
        page.context.close()


def test_sam_follows_up_a_low_rating_and_it_leaves_the_list(console_server, page, expect, sam, rated_week) -> None:
    log_in(page, console_server, "sam")
    page.goto(f"{console_server}/console/dashboard/")
    first = page.locator(".low-rating").first
    expect(first).to_contain_text("戒指有划痕")  # the first rated has waited longest: first
    first.get_by_placeholder("What was done (optional)").fill("Called the shopper; reship sent")
    first.get_by_role("button", name="Followed up").click()

    expect(page.locator(".low-rating")).to_have_count(1)
    expect(page.locator(".low-rating")).to_contain_text("The clasp broke again")
    expect(page.locator("#recent-actions")).to_contain_text("Called the shopper; reship sent")
