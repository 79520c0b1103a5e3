"""An agent in an offer-mode queue sees the offer on every console page, with a countdown, and
accepts (the ticket opens as theirs) or declines with a reason (it goes to the next agent)."""

import re

import pytest

from routing.models import DeclineReason, Offer
from teams.models import AgentProfile, AgentStatus, SpecialistQueue
from teams.selectors import reset_config_cache
from tests.helpers import SCREENSHOTS, log_in, refreshed, set_ui_language
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SHOTS = SCREENSHOTS / "offers"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def offer_queue() -> None:
    SpecialistQueue.objects.filter(slug="jewelry").update(mode=SpecialistQueue.Mode.OFFER)
    reset_config_cache()


def pending(agent: AgentProfile) -> Offer:
    return Offer.objects.get(agent=agent.user, state=Offer.State.PENDING)


def test_the_offer_shows_on_the_inbox_and_on_a_ticket_page(signed_in, ana, bo, offer_queue, inquiry) -> None:
    AgentProfile.objects.filter(pk=bo.pk).update(status=AgentStatus.AWAY)
    mine = inquiry("戒指尺寸不对")
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=2)
    client = signed_in(ana)
    offer = pending(ana)

    inbox = client.get("/console/").text
    live = client.get("/console/inbox/live/").text
    assert 'id="offer-banner"' in inbox and f'action="/console/offers/{offer.pk}/accept/"' in inbox
    assert "New ticket offered to you" in live and f"#{mine.id}" in live
    assert f'data-offer-expires="{int(offer.expires_at.timestamp())}"' in inbox


def test_accepting_opens_the_ticket_as_hers(signed_in, ana, offer_queue, inquiry) -> None:
    ticket = inquiry()
    offer = pending(ana)

    response = signed_in(ana).post(f"/console/offers/{offer.pk}/accept/", follow=True)

    assert response.redirect_chain[-1][0] == f"/console/tickets/{ticket.id}/"
    assert f"Ticket #{ticket.id} is yours." in response.text and 'id="reply-form"' in response.text
    assert 'data-offer-count="0"' in response.text  # the banner is gone once accepted


def test_a_decline_with_a_reason_is_recorded_and_the_banner_goes(signed_in, ana, offer_queue, inquiry) -> None:
    ticket = inquiry()
    offer = pending(ana)

    response = signed_in(ana).post(
        f"/console/offers/{offer.pk}/decline/", {"reason": DeclineReason.SKILL, "next": "/console/"}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/console/"
    assert f"Declined: ticket #{ticket.id} goes to another agent." in response.text
    assert Offer.objects.get(pk=offer.pk).decline_reason == DeclineReason.SKILL
    assert refreshed(ticket).status == TicketStatus.QUEUED


def test_someone_elses_offer_and_a_made_up_reason_are_refused_kindly(signed_in, ana, bo, offer_queue, inquiry) -> None:
    AgentProfile.objects.filter(pk=bo.pk).update(status=AgentStatus.AWAY)
    inquiry()
    offer = pending(ana)

    other = signed_in(bo).post(f"/console/offers/{offer.pk}/accept/", follow=True)
    made_up = signed_in(ana).post(f"/console/offers/{offer.pk}/decline/", {"reason": "bored"}, follow=True)

    assert other.status_code == 200 and "No offer of yours has this number." in other.text
    assert made_up.status_code == 200 and "Choose one of the listed reasons, or none." in made_up.text
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.PENDING


@pytest.mark.usefixtures("eager_celery")
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
@pytest.mark.parametrize(
    ("zh", "viewport"),
    [(False, DESKTOP), (False, PHONE), (True, DESKTOP), (True, PHONE)],
    ids=["en-desktop", "en-phone", "zh-desktop", "zh-phone"],
)
def test_in_the_browser_ana_accepts_an_offer_and_bo_declines_one(
    console_server, browser, expect, ana, bo, offer_queue, inquiry, zh, viewport
) -> None:
    if zh:
        set_ui_language("zh-hans", ana, bo)
    suffix = f"{'zh' if zh else 'en'}-{viewport['width']}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    ana_page = browser.new_page(viewport=viewport, locale="en-US")
    bo_page = browser.new_page(viewport=viewport, locale="en-US")
    try:
        log_in(ana_page, console_server, "ana")
        AgentProfile.objects.filter(pk=bo.pk).update(status=AgentStatus.AWAY)
        first = inquiry("戒指尺寸偏大，想换小一号")  # Ana's page is open: the offer arrives live
        offer = pending(ana)
        banner = ana_page.locator(f'#offer-banner section[data-cue="offer-{offer.pk}"]')
        expect(banner).to_be_visible(timeout=15000)
        expect(banner.locator("h2")).to_have_text("有新工单邀您接待" if zh else "New ticket offered to you")
        expect(banner.locator("time[data-offer-expires]")).to_have_text(re.compile(r"^\d+ (s|秒)$"))
        ana_page.screenshot(path=str(SHOTS / f"offer-banner-{suffix}.png"), full_page=True)
        banner.get_by_role("button", name="接受" if zh else "Accept").click()
        ana_page.wait_for_url(f"{console_server}/console/tickets/{first.id}/")
        expect(ana_page.locator("#reply-form")).to_be_visible()
        ana_page.screenshot(path=str(SHOTS / f"offer-accepted-{suffix}.png"))
        assert refreshed(first).assigned_agent == ana.user

        AgentProfile.objects.filter(pk=bo.pk).update(status=AgentStatus.ONLINE)
        AgentProfile.objects.filter(pk=ana.pk).update(status=AgentStatus.AWAY)
        second = inquiry("项链断了")
        offered = pending(bo)
        log_in(bo_page, console_server, "bo")
        card = bo_page.locator(f'#offer-banner section[data-cue="offer-{offered.pk}"]')
        expect(card).to_be_visible()
        card.locator("select[name=reason]").select_option(DeclineReason.BUSY.value)
        bo_page.screenshot(path=str(SHOTS / f"offer-decline-{suffix}.png"), full_page=True)
        card.get_by_role("button", name="拒绝" if zh else "Decline").click()
        expect(bo_page.locator(f'section[data-cue="offer-{offered.pk}"]')).to_have_count(0)
        bo_page.screenshot(path=str(SHOTS / f"offer-declined-{suffix}.png"))
        assert Offer.objects.get(pk=offered.pk).decline_reason == DeclineReason.BUSY
        assert refreshed(second).status == TicketStatus.QUEUED
    finally:
        ana_page.context.close()
        bo_page.context.close()
