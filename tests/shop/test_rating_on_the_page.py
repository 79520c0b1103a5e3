"""After a resolution the shopper's page asks for a 1–5 rating with an optional comment, thanks
them and shows what they gave; the link in the resolution notice lands on the question; a
reopened and re-resolved inquiry is asked again."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from routing.services import add_shopper_message, resolve_ticket
from satisfaction.models import Rating
from tests.helpers import shopper_of
from tickets.links import make_access_token
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def resolved_by(ana, ticket: Ticket) -> Ticket:
    resolve_ticket(ticket_id=ticket.id, by=ana.user)
    return Ticket.objects.get(pk=ticket.id)


def rate_section(browser: Client, ticket: Ticket) -> str:
    html = browser.get(f"/shop/inquiries/{ticket.id}/").content.decode()
    match = re.search(r'<section id="rate"[^>]*>.*?</section>', html, re.S)
    assert match, "the section is always there, for the live re-read to fill"
    return "" if " hidden>" in match.group(0).split("\n", 1)[0] else match.group(0)


def test_an_open_inquiry_asks_for_no_rating(ana, inquiry) -> None:
    ticket = inquiry("戒指尺寸不对")
    assert rate_section(shopper_of(ticket), ticket) == ""


def test_the_resolution_link_lands_on_the_rating_question(ana, inquiry) -> None:
    ticket = resolved_by(ana, inquiry("戒指尺寸不对"))
    browser = Client()

    response = browser.get(f"/shop/access/{make_access_token(ticket.id, next_page='rate')}/")

    assert response.status_code == 302 and response["Location"] == f"/shop/inquiries/{ticket.id}/#rate"
    section = rate_section(browser, ticket)
    assert "How did we do?" in section
    assert all(f'value="{n}"' in section for n in range(1, 6))


def test_the_shopper_rates_and_is_thanked_with_their_rating(ana, inquiry) -> None:
    ticket = resolved_by(ana, inquiry("戒指尺寸不对"))
    browser = shopper_of(ticket)

    response = browser.post(f"/shop/inquiries/{ticket.id}/rating/", {"score": "5", "comment": "换得很快，谢谢！"})

    assert response.status_code == 302 and response["Location"].endswith("#rate")
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment, rating.resolved_at) == (5, "换得很快，谢谢！", ticket.resolved_at)
    section = rate_section(browser, ticket)
    assert "Thank you for your rating" in section and "You rated our service 5 out of 5." in section
    assert "换得很快，谢谢！" in section and 'id="rate-form"' not in section


def test_a_low_rating_is_told_a_supervisor_will_follow_up(ana, inquiry) -> None:
    ticket = resolved_by(ana, inquiry("戒指尺寸不对"))
    browser = shopper_of(ticket)
    browser.post(f"/shop/inquiries/{ticket.id}/rating/", {"score": "1"})
    assert Rating.objects.get(ticket=ticket).needs_follow_up
    assert "A supervisor will read your inquiry" in rate_section(browser, ticket)
    # The note it leaves is internal: never on the shopper's page.
    assert Message.objects.filter(ticket=ticket, is_internal=True).exists()
    assert "Low satisfaction" not in browser.get(f"/shop/inquiries/{ticket.id}/").content.decode()


def test_the_page_speaks_chinese_to_a_chinese_browser(ana, inquiry) -> None:
    ticket = resolved_by(ana, inquiry("戒指尺寸不对"))
    browser = shopper_of(ticket)
    browser.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    assert "您对我们的服务满意吗？" in rate_section(browser, ticket)
    browser.post(f"/shop/inquiries/{ticket.id}/rating/", {"score": "4"})
    assert "您给我们的服务打了 4 分（满分 5 分）。" in rate_section(browser, ticket)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({}, "Choose a score from 1 to 5."),
        ({"score": "0"}, "Choose a score from 1 to 5."),
        ({"score": "6"}, "Choose a score from 1 to 5."),
        ({"score": "five"}, "Choose a score from 1 to 5."),
        ({"score": "3", "comment": "x" * 1001}, "at most 1000 characters"),
    ],
)
def test_a_bad_rating_is_refused_with_the_reason_and_nothing_stored(ana, inquiry, data, reason) -> None:
    ticket = resolved_by(ana, inquiry("戒指尺寸不对"))
    response = shopper_of(ticket).post(f"/shop/inquiries/{ticket.id}/rating/", data)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not Rating.objects.exists()


def test_an_open_inquiry_cannot_be_rated(ana, inquiry) -> None:
    ticket = inquiry("戒指尺寸不对")
    browser = shopper_of(ticket)
    response = browser.post(f"/shop/inquiries/{ticket.id}/rating/", {"score": "5"}, follow=True)
    assert response.redirect_chain == [(f"/shop/inquiries/{ticket.id}/", 302)]
    assert "can no longer be rated" in response.content.decode()
    assert not Rating.objects.exists()


def test_a_resolution_too_long_ago_is_no_longer_asked_about(ana, inquiry, settings) -> None:
    settings.CSAT_RATING_WINDOW_DAYS = 3  # inside the session's life, so the page still opens
    ticket = resolved_by(ana, inquiry("戒指尺寸不对"))
    browser = shopper_of(ticket)
    with time_machine.travel(timezone.now() + timedelta(days=settings.CSAT_RATING_WINDOW_DAYS, hours=1)):
        assert rate_section(browser, ticket) == ""
        browser.post(f"/shop/inquiries/{ticket.id}/rating/", {"score": "5"})
    assert not Rating.objects.exists()


def test_a_second_tab_changing_its_mind_keeps_the_first_rating(ana, inquiry) -> None:
    ticket = resolved_by(ana, inquiry("戒指尺寸不对"))
    browser = shopper_of(ticket)
    browser.post(f"/shop/inquiries/{ticket.id}/rating/", {"score": "4"})
    again = browser.post(f"/shop/inquiries/{ticket.id}/rating/", {"score": "4"})
    other = browser.post(f"/shop/inquiries/{ticket.id}/rating/", {"score": "1"})
    assert again.status_code == 302 and other.status_code == 302
    assert list(Rating.objects.values_list("score", flat=True)) == [4]
    html = browser.get(f"/shop/inquiries/{ticket.id}/").content.decode()
    assert "You have already rated this resolution." in html and "You rated our service 4 out of 5." in html


def test_a_reopened_and_re_resolved_inquiry_is_asked_again(ana, inquiry) -> None:
    ticket = resolved_by(ana, inquiry("戒指尺寸不对"))
    browser = shopper_of(ticket)
    browser.post(f"/shop/inquiries/{ticket.id}/rating/", {"score": "5"})

    add_shopper_message(ticket_id=ticket.id, body="又断了")  # reopens
    assert rate_section(browser, ticket) == ""
    resolved_by(ana, ticket)
    assert "How did we do?" in rate_section(browser, ticket)

    browser.post(f"/shop/inquiries/{ticket.id}/rating/", {"score": "2"})
    assert sorted(Rating.objects.filter(ticket=ticket).values_list("score", flat=True)) == [2, 5]


def test_a_get_on_the_rating_address_lands_on_the_page(ana, inquiry) -> None:
    ticket = resolved_by(ana, inquiry("戒指尺寸不对"))
    response = shopper_of(ticket).get(f"/shop/inquiries/{ticket.id}/rating/")
    assert response.status_code == 302 and response["Location"] == f"/shop/inquiries/{ticket.id}/"
