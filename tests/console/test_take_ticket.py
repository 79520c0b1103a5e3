"""From the inbox or the ticket page, an agent takes a waiting ticket of her queues; when she
cannot, the inbox says why (never a 404, never a half-taken ticket)."""

import pytest

from teams.models import AgentProfile, AgentStatus
from tests.helpers import SCREENSHOTS, log_in, refreshed, set_ui_language
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SHOTS = SCREENSHOTS / "workspace"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def waiting(ana, bo, inquiry):
    """A ticket waiting in the jewelry line; Ana and Bo back online before dispatch runs."""
    AgentProfile.objects.update(status=AgentStatus.AWAY)
    ticket = inquiry("戒指尺寸不对")
    AgentProfile.objects.filter(pk__in=[ana.pk, bo.pk]).update(status=AgentStatus.ONLINE)
    return ticket


def test_the_waiting_row_and_the_ticket_page_offer_take_this_ticket(signed_in, ana, waiting) -> None:
    client = signed_in(ana)

    inbox = client.get("/console/").text.split('id="waiting-tickets"')[1]
    page = client.get(f"/console/tickets/{waiting.id}/").text

    assert f'action="/console/tickets/{waiting.id}/take/"' in inbox
    assert 'id="take-form"' in page and "Take this ticket" in page


def test_taking_opens_the_ticket_as_hers(signed_in, ana, waiting) -> None:
    response = signed_in(ana).post(f"/console/tickets/{waiting.id}/take/", follow=True)

    assert response.redirect_chain[-1][0] == f"/console/tickets/{waiting.id}/"
    assert f"Ticket #{waiting.id} is yours." in response.text and 'id="reply-form"' in response.text
    assert refreshed(waiting).assigned_agent == ana.user


def test_a_ticket_a_colleague_took_first_is_explained_on_the_inbox(signed_in, ana, bo, waiting) -> None:
    signed_in(bo).post(f"/console/tickets/{waiting.id}/take/")

    response = signed_in(ana).post(f"/console/tickets/{waiting.id}/take/", follow=True)

    assert response.redirect_chain[-1][0] == "/console/"
    assert f"Ticket #{waiting.id} is no longer waiting in your queues." in response.text
    assert refreshed(waiting).assigned_agent == bo.user


def test_at_capacity_the_refusal_is_explained_and_nothing_changes(signed_in, ana, waiting) -> None:
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=1, active_ticket_count=1)

    response = signed_in(ana).post(f"/console/tickets/{waiting.id}/take/", follow=True)

    assert "could not be taken: you are at your capacity; resolve a ticket first." in response.text
    assert refreshed(waiting).status == TicketStatus.QUEUED


@pytest.mark.usefixtures("eager_celery")
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
@pytest.mark.parametrize(
    ("zh", "viewport"),
    [(False, DESKTOP), (False, PHONE), (True, DESKTOP), (True, PHONE)],
    ids=["en-desktop", "en-phone", "zh-desktop", "zh-phone"],
)
def test_in_the_browser_ana_takes_a_waiting_ticket_from_her_inbox(
    console_server, browser, expect, ana, waiting, zh, viewport
) -> None:
    if zh:
        set_ui_language("zh-hans", ana)
    page = browser.new_page(viewport=viewport, locale="en-US")
    suffix = f"{'zh' if zh else 'en'}-{viewport['width']}"
    try:
        log_in(page, console_server, "ana")
        button = page.locator(f'#waiting-tickets form[action="/console/tickets/{waiting.id}/take/"] button')
        expect(button).to_be_visible()
        expect(button).to_have_text("接手此工单" if zh else "Take this ticket")
        page.screenshot(path=str(SHOTS / f"take-inbox-{suffix}.png"), full_page=True)
        button.click()
        page.wait_for_url(f"{console_server}/console/tickets/{waiting.id}/")
        expect(page.locator("#reply-form")).to_be_visible()
        page.screenshot(path=str(SHOTS / f"take-taken-{suffix}.png"))
        assert refreshed(waiting).assigned_agent == ana.user
    finally:
        page.context.close()
