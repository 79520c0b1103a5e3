"""In a real browser, at phone and desktop width, in English and Chinese: Sam's dashboard shows
the floor as counts by status and only the agents needing attention (capped, "+N more"); the
agent list pages through everyone, finds an agent by name, and sets a status from its row.
"""

import pytest

from supervision.selectors import AGENT_BOARD_ROWS
from teams.models import AgentStatus
from tests.factories import AgentFactory, UserFactory
from tests.helpers import SCREENS, SCREENSHOTS, scroll_to, signed_in_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

SHOTS = SCREENSHOTS / "agent-board"
TEXT = {
    "en-US": {"ui": "en", "attention": "Needing attention", "more": "more needing attention", "all": "All agents",
              "search": "Search", "set": "Set", "away_no_console": "Away, no console", "next": "Next →"},
    "zh-CN": {"ui": "zh-hans", "attention": "需关注", "more": "位需关注", "all": "全部客服",
              "search": "搜索", "set": "设置", "away_no_console": "离开（控制台未打开）", "next": "下一页 →"},
}  # fmt: skip


def a_floor() -> None:
    """A floor bigger than the board: 40 working agents, 15 with no console, 2 after missed offers."""
    for n in range(40):
        AgentFactory.create(
            user=UserFactory.create(username=f"agent{n:02d}"),
            display_name=f"Agent {n:02d}",
            skills=["jewelry"],
            active_ticket_count=n % 4,
        )
    for n in range(15):
        AgentFactory.create(
            user=UserFactory.create(username=f"closed{n:02d}"),
            display_name=f"Closed tab {n:02d}",
            skills=["jewelry"],
            status=AgentStatus.AWAY,
            status_set_by_presence=True,
        )
    for n in range(2):
        AgentFactory.create(
            user=UserFactory.create(username=f"missed{n}"),
            display_name=f"Missed offers {n}",
            skills=["jewelry"],
            status=AgentStatus.AWAY,
            missed_offer_streak=3,
        )


@pytest.mark.parametrize(("locale", "size", "viewport"), SCREENS)
def test_sam_sees_counts_and_exceptions_then_pages_through_the_agent_list(
    console_server, browser, expect, sam, locale, size, viewport
) -> None:
    t = TEXT[locale]
    sam.ui_language = t["ui"]
    sam.save(update_fields=["ui_language"])
    a_floor()
    shots = SHOTS
    shots.mkdir(parents=True, exist_ok=True)
    name = f"agent-board-{locale}-{size}"
    page = signed_in_page(browser, console_server, sam.user, locale, viewport)
    try:
        page.goto(f"{console_server}/console/dashboard/")
        board = page.locator("#agent-board")
        expect(board.locator('[data-bucket="away_no_console"] strong')).to_have_text("15")
        expect(board.locator("tr[data-agent]")).to_have_count(AGENT_BOARD_ROWS)
        expect(board.locator("tr[data-agent]").first).to_have_attribute("data-reason", "missed_offers")
        expect(board.get_by_text(t["more"])).to_be_visible()
        scroll_to(page, "#agent-board")
        # The viewport, not the element: the dashboard's live re-read may swap the board mid-capture.
        page.screenshot(path=str(shots / f"{name}-1-dashboard-board.png"))
        # Nothing on the phone is wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1

        board.locator('[data-bucket="away_no_console"] a').click()
        expect(page.locator("tr[data-agent]")).to_have_count(15)
        page.screenshot(path=str(shots / f"{name}-2-list-no-console.png"), full_page=True)

        page.goto(f"{console_server}/console/dashboard/agents/")
        expect(page.locator("tr[data-agent]")).to_have_count(25)
        page.get_by_role("link", name=t["next"]).click()
        expect(page.locator("tr[data-agent]")).to_have_count(25)
        page.get_by_role("searchbox").fill("Closed tab 07")
        page.get_by_role("button", name=t["search"], exact=True).click()
        row = page.locator('tr[data-agent="closed07"]')
        expect(row).to_have_count(1)
        row.locator("select").select_option(AgentStatus.ONLINE)
        row.get_by_role("button", name=t["set"]).click()
        expect(page.locator('tr[data-agent="closed07"] .status-agent-online')).to_be_visible()
        assert "q=Closed" in page.url  # back on the same search
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
        page.screenshot(path=str(shots / f"{name}-3-list-after-set.png"), full_page=True)
    finally:
        page.context.close()
