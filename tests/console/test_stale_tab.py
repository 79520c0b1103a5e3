"""A ticket that leaves the agent while its page is open: the page turns read-only with the draft
kept, and a reply posted from a stale tab comes back to copy (never a bare 404)."""

import pytest

from routing.services import transfer_ticket
from tests.helpers import SCREENSHOTS, log_in, set_ui_language
from tickets.models import AuthorKind, Message

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SHOTS = SCREENSHOTS / "workspace"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def test_a_reply_from_a_stale_tab_is_not_sent_and_comes_back_to_copy(signed_in, ana, bo, sam, inquiry) -> None:
    ticket = inquiry()
    transfer_ticket(ticket_id=ticket.id, by=sam.user, to_agent=bo, note="")

    response = signed_in(ana).post(f"/console/tickets/{ticket.id}/reply/", {"body": "您好，已为您登记换小一号"})

    assert response.status_code == 404  # as for any ticket outside her view
    assert f"Ticket #{ticket.id} is no longer yours" in response.text
    assert "您好，已为您登记换小一号</textarea>" in response.text
    assert not Message.objects.filter(ticket=ticket, author_kind=AuthorKind.AGENT, is_internal=False).exists()


@pytest.mark.usefixtures("eager_celery")
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
@pytest.mark.parametrize(
    ("zh", "viewport"),
    [(False, DESKTOP), (False, PHONE), (True, DESKTOP), (True, PHONE)],
    ids=["en-desktop", "en-phone", "zh-desktop", "zh-phone"],
)
def test_a_stale_tab_turns_read_only_and_keeps_the_draft(
    console_server, browser, expect, ana, bo, sam, inquiry, zh, viewport
) -> None:
    ticket = inquiry()
    if zh:
        set_ui_language("zh-hans", ana)
    page = browser.new_page(viewport=viewport, locale="en-US")
    suffix = f"{'zh' if zh else 'en'}-{viewport['width']}"
    try:
        log_in(page, console_server, "ana")
        page.goto(f"{console_server}/console/tickets/{ticket.id}/")
        draft = page.locator("#reply-form textarea")
        draft.fill("您好，已为您登记换小一号")

        transfer_ticket(ticket_id=ticket.id, by=sam.user, to_agent=bo, note="")

        expect(page.locator("#ticket-gone")).to_be_visible(timeout=8_000)
        expect(page.locator("#ticket-gone-draft")).to_be_visible()
        expect(draft).to_have_value("您好，已为您登记换小一号")
        assert draft.evaluate("node => node.readOnly") is True
        expect(page.locator("#reply-form button[type=submit]")).to_be_disabled()
        page.screenshot(path=str(SHOTS / f"stale-tab-{suffix}.png"), full_page=True)
    finally:
        page.context.close()
