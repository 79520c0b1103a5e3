"""Ana's sidebar counts follow her inbox's live re-read, at most CONSOLE_SIDEBAR_COUNTS_SECONDS old,
without the counts' queries on every re-read."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import TicketFactory, queue
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


def count_of(html: str, slug: str) -> str:
    found = re.search(rf'id="view-{slug}"[^>]*>.*?<span class="count">([^<]+)</span>', html, re.S)
    assert found, f"no {slug} view in the fragment"
    return found.group(1)


def waiting_in_jewelry():
    return TicketFactory.create(status=TicketStatus.QUEUED, queue=queue("jewelry"), queued_at=timezone.now())


def test_the_live_re_read_carries_the_counts_at_most_n_seconds_old(signed_in, ana, settings) -> None:
    settings.CONSOLE_SIDEBAR_COUNTS_SECONDS = 10
    jewelry = queue("jewelry")
    waiting_in_jewelry()
    client = signed_in(ana)
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        assert count_of(client.get("/console/").text, f"queue-{jewelry.id}") == "1"
        waiting_in_jewelry()
        # Within the interval the re-read shows the counts the page load made.
        assert count_of(client.get("/console/inbox/live/").text, f"queue-{jewelry.id}") == "1"
    with time_machine.travel(now + timedelta(seconds=11), tick=False):
        live = client.get("/console/inbox/live/").text
    assert count_of(live, f"queue-{jewelry.id}") == "2"
    assert 'id="sidebar-views" data-live-part' in live
    assert 'id="view-mine"' in live and 'href="/console/" aria-current="page"' in live


def test_a_page_load_always_counts_afresh(signed_in, ana, settings) -> None:
    settings.CONSOLE_SIDEBAR_COUNTS_SECONDS = 60
    jewelry = queue("jewelry")
    client = signed_in(ana)
    assert count_of(client.get("/console/").text, f"queue-{jewelry.id}") == "0"
    waiting_in_jewelry()
    assert count_of(client.get("/console/").text, f"queue-{jewelry.id}") == "1"
    assert count_of(client.get("/console/inbox/live/").text, f"queue-{jewelry.id}") == "1"


def capped_counts(queries) -> int:
    """The sidebar's counts: SELECT COUNT(*) FROM (... LIMIT 100)."""
    return sum(1 for query in queries if re.match(r"SELECT COUNT\(\*\) FROM \(.*LIMIT 100\)", query["sql"], re.S))


@pytest.mark.parametrize("persona", ["ana", "sam"])
def test_within_the_interval_the_re_read_keeps_its_query_budget(
    signed_in, ana, sam, persona, settings, django_assert_max_num_queries
) -> None:
    client = signed_in({"ana": ana, "sam": sam}[persona])
    waiting_in_jewelry()
    TicketFactory.create(status=TicketStatus.ASSIGNED, assigned_agent=ana.user, queue=queue("jewelry"))
    settings.CONSOLE_SIDEBAR_COUNTS_SECONDS = 10
    client.get("/console/")  # the page load counts

    # The inbox re-read's budget (test_pages), the sidebar counts kept; a supervisor's inbox
    # also lists the tickets other agents hold.
    with django_assert_max_num_queries({"ana": 10, "sam": 11}[persona]) as kept:
        live = client.get("/console/inbox/live/")
    assert capped_counts(kept.captured_queries) == 0
    assert 'id="view-mine"' in live.text

    settings.CONSOLE_SIDEBAR_COUNTS_SECONDS = 0  # counted on every re-read: the counts do cost queries
    with django_assert_max_num_queries(40) as counting:
        client.get("/console/inbox/live/")
    assert capped_counts(counting.captured_queries) >= 3
