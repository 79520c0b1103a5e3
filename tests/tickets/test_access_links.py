"""A shopper's access link opens their own inquiry only, and only until it expires."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tickets.links import (
    AccessLinkExpired,
    AccessLinkInvalid,
    make_access_token,
    read_access_token,
    shopper_page_url,
)


def test_a_link_names_its_ticket_and_landing_page() -> None:
    assert read_access_token(make_access_token(42, next_page="rate")) == (42, "rate")
    assert shopper_page_url(7).split("/shop/access/")[0].startswith("http")


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "ä€漢字", make_access_token(1)[:-2] + "xx"],
    # Named, not shown: a signed token carries its signing time, and every xdist worker must
    # collect the same test ids.
    ids=["empty", "garbage", "non-ascii", "bad-signature"],
)
def test_a_tampered_link_is_refused(token: str) -> None:
    with pytest.raises(AccessLinkInvalid):
        read_access_token(token)


def test_a_link_stops_working_after_its_age(settings) -> None:
    settings.SHOPPER_LINK_MAX_AGE_DAYS = 2
    token = make_access_token(5)
    with time_machine.travel(timezone.now() + timedelta(days=3)), pytest.raises(AccessLinkExpired):
        read_access_token(token)


def test_an_unknown_landing_page_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        make_access_token(1, next_page="elsewhere")
