"""The supervisor sees how offers are answered, and why an agent was set Away."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from routing.models import DeclineReason, Offer
from routing.selectors import offer_figures
from routing.services import accept_offer, decline_offer, expire_offers
from teams.models import AgentProfile, SpecialistQueue
from teams.selectors import reset_config_cache

pytestmark = pytest.mark.django_db


def pending(agent: AgentProfile) -> Offer:
    return Offer.objects.get(agent=agent.user, state=Offer.State.PENDING)


def test_acceptance_rate_time_to_accept_and_declines_by_reason(ana, inquiry, after_commit) -> None:
    SpecialistQueue.objects.filter(slug="jewelry").update(mode=SpecialistQueue.Mode.OFFER)
    reset_config_cache()
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=5)
    started = timezone.now()
    for seconds in (2, 4, 9):
        inquiry()
        offer = pending(ana)
        with time_machine.travel(offer.offered_at + timedelta(seconds=seconds)), after_commit():
            accept_offer(offer_id=offer.pk, user=ana.user)
    inquiry()
    with after_commit():
        decline_offer(offer_id=pending(ana).pk, user=ana.user, reason=DeclineReason.BUSY)

    figures = offer_figures(since=started - timedelta(minutes=1))

    assert (figures.offered, figures.accepted, figures.declined, figures.expired) == (4, 3, 1, 0)
    assert figures.acceptance_rate == 0.75
    assert figures.accept_mean_seconds == pytest.approx(5.0, abs=0.1)
    assert figures.accept_p90_seconds == pytest.approx(9.0, abs=0.1)
    assert figures.declines_by_reason == [("Busy with another shopper", 1)]


def test_the_dashboard_says_an_agent_was_set_away_for_missed_offers(
    sam, ana, inquiry, after_commit, settings, signed_in
) -> None:
    settings.OFFER_MISSES_BEFORE_AWAY = 2
    SpecialistQueue.objects.filter(slug="jewelry").update(mode=SpecialistQueue.Mode.OFFER)
    reset_config_cache()
    for _ in range(2):
        inquiry()
        offer = pending(ana)
        with time_machine.travel(offer.expires_at + timedelta(seconds=1)), after_commit():
            expire_offers()

    page = signed_in(sam).get("/console/dashboard/").content.decode()

    assert "(missed 2 offers in a row)" in page
    assert 'id="offer-figures"' in page and "Offers today" in page
