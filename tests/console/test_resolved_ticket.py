"""A resolved ticket is read-only on its page: the one thing it offers is "Reopen"."""

from typing import Any

import pytest

from routing.services import resolve_ticket
from tests.helpers import SCREENSHOTS, log_in, refreshed, set_ui_language
from tickets.models import Message, TicketStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SHOTS = SCREENSHOTS / "workspace"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def resolved(inquiry: Any, agent: Any) -> Any:
    ticket = inquiry()
    resolve_ticket(ticket_id=ticket.id, by=agent.user)
    return refreshed(ticket)


def test_a_resolved_ticket_page_offers_only_reopen(signed_in, ana, inquiry) -> None:
    ticket = resolved(inquiry, ana)

    page = signed_in(ana).get(f"/console/tickets/{ticket.id}/").text

    assert 'id="reopen-form"' in page and "This ticket is resolved and read-only." in page
    for form in ("reply-form", "note-form", "resolve-form", "recategorize-form", "transfer-form", "escalate-form"):
        assert f'id="{form}"' not in page, form


def test_a_note_posted_from_an_old_page_on_a_resolved_ticket_is_refused_with_the_reason(
    signed_in, ana, inquiry
) -> None:
    ticket = resolved(inquiry, ana)
    notes = Message.objects.filter(ticket=ticket).count()

    response = signed_in(ana).post(f"/console/tickets/{ticket.id}/notes/", {"body": "follow-up"})

    assert response.status_code == 409
    assert "takes no notes; reopen it first" in response.text
    assert Message.objects.filter(ticket=ticket).count() == notes


def test_reopening_brings_the_ticket_back_to_the_agent_with_its_actions(signed_in, ana, inquiry) -> None:
    ticket = resolved(inquiry, ana)

    response = signed_in(ana).post(f"/console/tickets/{ticket.id}/reopen/", follow=True)

    assert response.redirect_chain[-1][0] == f"/console/tickets/{ticket.id}/"
    assert f"Ticket #{ticket.id} reopened." in response.text
    reopened = refreshed(ticket)
    assert reopened.status == TicketStatus.ASSIGNED and reopened.resolved_at is None
    assert reopened.assigned_agent == ana.user
    assert 'id="reply-form"' in response.text and 'id="reopen-form"' not in response.text


def test_reopening_an_open_ticket_is_explained_and_changes_nothing(signed_in, ana, inquiry) -> None:
    ticket = inquiry()
    notes = Message.objects.filter(ticket=ticket).count()

    response = signed_in(ana).post(f"/console/tickets/{ticket.id}/reopen/")

    assert response.status_code == 409
    assert "Only a resolved ticket can be reopened" in response.text
    assert refreshed(ticket).status == TicketStatus.ASSIGNED
    assert Message.objects.filter(ticket=ticket).count() == notes


def test_another_agent_cannot_reopen_a_ticket_they_never_held(signed_in, ana, bo, inquiry) -> None:
    ticket = resolved(inquiry, ana)

    response = signed_in(bo).post(f"/console/tickets/{ticket.id}/reopen/")

    assert response.status_code == 404  # not in bo's view at all
    assert refreshed(ticket).status == TicketStatus.RESOLVED


@pytest.mark.usefixtures("eager_celery")
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
@pytest.mark.parametrize(
    ("language", "reopen", "viewport"),
    [
        ("en-US", "Reopen", DESKTOP),
        ("en-US", "Reopen", PHONE),
        ("zh-CN", "重新打开", DESKTOP),
        ("zh-CN", "重新打开", PHONE),
    ],
)
def test_in_the_browser_a_resolved_ticket_offers_only_reopen_and_reopens(
    console_server, browser, expect, ana, inquiry, language, reopen, viewport
) -> None:
    ticket = resolved(inquiry, ana)
    if language == "zh-CN":  # Ana's saved interface language wins over the browser's
        set_ui_language("zh-hans", ana)
    page = browser.new_page(viewport=viewport, locale="en-US")
    try:
        log_in(page, console_server, "ana")
        page.goto(f"{console_server}/console/tickets/{ticket.id}/")
        expect(page.get_by_role("button", name=reopen)).to_be_visible()
        assert page.locator("#reply-form, #note-form, #resolve-form, #transfer-form").count() == 0
        name = f"resolved-{language[:2]}-{viewport['width']}.png"
        page.screenshot(path=str(SHOTS / name), full_page=True)
        page.get_by_role("button", name=reopen).click()
        expect(page.locator("#reply-form")).to_be_visible()
        assert refreshed(ticket).status == TicketStatus.ASSIGNED
    finally:
        page.context.close()
