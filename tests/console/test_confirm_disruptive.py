"""Disruptive actions ask once before they happen: going offline while holding tickets, and a
category that moves the ticket out of the agent's queues. Nothing changes until confirmed."""

import pytest

from teams.models import AgentProfile, AgentStatus
from tests.factories import category
from tests.helpers import SCREENSHOTS, log_in, refreshed, set_ui_language
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SHOTS = SCREENSHOTS / "workspace"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def test_going_offline_with_open_tickets_asks_first_and_changes_nothing(signed_in, ana, inquiry) -> None:
    ticket = inquiry()

    response = signed_in(ana).post("/console/status/", {"status": "offline", "next": "/console/"})

    assert response.status_code == 200 and 'id="confirm-step"' in response.text
    assert "You hold 1 open ticket." in response.text
    ana.refresh_from_db()
    assert ana.status == AgentStatus.ONLINE and refreshed(ticket).assigned_agent == ana.user


def test_confirming_goes_offline_and_returns_the_ticket_to_its_queue(signed_in, ana, bo, inquiry) -> None:
    ticket = inquiry()
    AgentProfile.objects.filter(pk=bo.pk).update(status=AgentStatus.AWAY)

    response = signed_in(ana).post("/console/status/", {"status": "offline", "confirm": "1", "next": "/console/"})

    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.status == AgentStatus.OFFLINE and refreshed(ticket).status == TicketStatus.QUEUED


def test_going_offline_with_no_tickets_needs_no_confirmation(signed_in, ana) -> None:
    response = signed_in(ana).post("/console/status/", {"status": "offline", "next": "/console/"})

    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.status == AgentStatus.OFFLINE


def test_a_category_outside_the_agents_queues_asks_first_and_changes_nothing(signed_in, ana, mei, inquiry) -> None:
    ticket = inquiry("奶瓶漏水了")

    response = signed_in(ana).post(
        f"/console/tickets/{ticket.id}/category/", {"category": category("maternal_baby").id}
    )

    assert response.status_code == 200 and "out of your queues?" in response.text
    assert f'name="category" value="{category("maternal_baby").id}"' in response.text
    kept = refreshed(ticket)
    assert kept.category.slug == "jewelry" and kept.assigned_agent == ana.user


def test_a_category_within_the_same_queue_needs_no_confirmation(signed_in, ana, inquiry) -> None:
    ticket = inquiry()

    response = signed_in(ana).post(f"/console/tickets/{ticket.id}/category/", {"category": category("jewelry").id})

    assert response.status_code == 302


@pytest.mark.usefixtures("eager_celery")
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
@pytest.mark.parametrize(
    ("zh", "viewport"),
    [(False, DESKTOP), (False, PHONE), (True, DESKTOP), (True, PHONE)],
    ids=["en-desktop", "en-phone", "zh-desktop", "zh-phone"],
)
def test_in_the_browser_ana_confirms_before_going_offline_and_before_a_move(
    console_server, browser, expect, ana, mei, inquiry, zh, viewport
) -> None:
    ticket = inquiry("奶瓶漏水了")
    if zh:
        set_ui_language("zh-hans", ana)
    page = browser.new_page(viewport=viewport, locale="en-US")
    suffix = f"{'zh' if zh else 'en'}-{viewport['width']}"
    try:
        log_in(page, console_server, "ana")
        page.goto(f"{console_server}/console/tickets/{ticket.id}/")
        page.locator("#recategorize-form select").select_option(str(category("maternal_baby").id))
        page.locator("#recategorize-form button[type=submit]").click()
        expect(page.locator("#confirm-step")).to_be_visible()
        page.screenshot(path=str(SHOTS / f"confirm-move-{suffix}.png"), full_page=True)
        page.locator("#confirm-step a.btn").click()  # keep it here
        expect(page.locator("#recategorize-form")).to_be_visible()
        assert refreshed(ticket).assigned_agent == ana.user

        page.locator(".status-control button[value=offline]").click()
        expect(page.locator("#confirm-step")).to_contain_text("1")
        page.screenshot(path=str(SHOTS / f"confirm-offline-{suffix}.png"), full_page=True)
        page.locator("#confirm-form button[type=submit]").click()
        expect(page.locator(".status-control button[value=offline]")).to_have_attribute("aria-pressed", "true")
        assert refreshed(ticket).status in (TicketStatus.QUEUED, TicketStatus.ASSIGNED)
        assert refreshed(ticket).assigned_agent != ana.user
    finally:
        page.context.close()
