"""A shopper opens an inquiry on /shop/ and comes back later through a signed link."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.photos import has_gps, image_bytes, noisy_jpeg
from tests.shop.helpers import open_on_page, photo
from tickets.links import make_access_token
from tickets.models import Attachment, Channel, Ticket

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_shopper_opens_an_inquiry_with_a_photo_and_lands_on_its_page(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        ticket = open_on_page(client, "手链的扣子断了", order_number="JD20261125001", photos=[photo()])

    assert ticket.channel == Channel.WEB_FORM and ticket.order_number == "JD20261125001"
    assert ticket.shopper.email == "wang@example.com"
    [attachment] = Attachment.objects.filter(message__ticket=ticket)
    with attachment.file.open("rb") as stored:
        assert not has_gps(stored.read())
    page = client.get(f"/shop/inquiries/{ticket.id}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "手链的扣子断了" in text and "We have your inquiry" in text
    assert f"/shop/inquiries/{ticket.id}/photos/{attachment.id}/" in text
    assert client.get(f"/shop/inquiries/{ticket.id}/photos/{attachment.id}/")["Content-Type"] == "image/jpeg"


def test_a_shopper_must_give_an_email_or_a_phone(client: Client) -> None:
    response = client.post("/shop/", {"body": "where is my parcel?"})
    assert response.status_code == 400
    assert "Give an email or a phone number" in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("upload", "reason"),
    [
        (lambda: photo("anim.gif", image_bytes("GIF"), "image/gif"), "is not a photo we accept"),
        (lambda: photo("notes.jpg", b"%PDF-1.7 not a photo at all" * 10), "is not a photo we accept"),
        (lambda: photo("huge.jpg", noisy_jpeg()), "is too large"),
    ],
    ids=["refused type", "extension lies", "oversized"],
)
def test_a_refused_file_is_a_400_with_the_reason_and_nothing_is_saved(client: Client, settings, upload, reason) -> None:
    settings.ATTACHMENT_MAX_BYTES = 20_000
    response = client.post(
        "/shop/", {"body": "坏了", "email": "a@example.com", "photos": [photo("ok.png", image_bytes("PNG")), upload()]}
    )
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_the_access_link_becomes_a_session_and_leaves_no_token_in_the_address(inquiry) -> None:
    ticket = inquiry("耳钉少了一只")
    browser = Client()
    assert browser.get(f"/shop/inquiries/{ticket.id}/").status_code == 404

    response = browser.get(f"/shop/access/{make_access_token(ticket.id)}/")

    assert response.status_code == 302 and response["Location"] == f"/shop/inquiries/{ticket.id}/"
    assert response["Referrer-Policy"] == "no-referrer"
    assert browser.get(response["Location"]).status_code == 200


def test_the_rating_link_lands_on_the_rating_part_of_the_page(inquiry) -> None:
    ticket = inquiry("耳钉少了一只")
    response = Client().get(f"/shop/access/{make_access_token(ticket.id, next_page='rate')}/")
    assert response["Location"] == f"/shop/inquiries/{ticket.id}/#rate"


def test_a_tampered_link_is_refused(inquiry) -> None:
    ticket = inquiry("耳钉少了一只")
    token = make_access_token(ticket.id)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    browser = Client()
    response = browser.get(f"/shop/access/{tampered}/")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    assert browser.get(f"/shop/inquiries/{ticket.id}/").status_code == 404


def test_an_expired_link_is_refused(inquiry, settings) -> None:
    ticket = inquiry("耳钉少了一只")
    token = make_access_token(ticket.id)
    with time_machine.travel(timezone.now() + timedelta(days=settings.SHOPPER_LINK_MAX_AGE_DAYS + 1)):
        browser = Client()
        response = browser.get(f"/shop/access/{token}/")
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
        assert browser.get(f"/shop/inquiries/{ticket.id}/").status_code == 404


def test_the_shopper_pages_carry_their_own_security_headers(client: Client) -> None:
    response = client.get("/shop/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response["X-Frame-Options"] == "DENY"
    # Pages with forms: same-origin (under no-referrer a browser posts "Origin: null", which CSRF refuses).
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store"
    # Outside /shop/ the site-wide policy (django-csp) applies, not the shop's stricter one.
    assert "default-src 'none'" not in Client().get("/accounts/login/")["Content-Security-Policy"]


def test_every_shopper_form_needs_its_csrf_token(inquiry) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/shop/", {"body": "x", "email": "a@example.com"}).status_code == 403
    page = strict.get("/shop/").content.decode()
    assert len(re.findall(r'name="csrfmiddlewaretoken"', page)) >= 2  # the inquiry form and the language switch
