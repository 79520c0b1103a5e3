"""An agent finds a ticket by number, order, shopper or words, among the tickets she may open;
the sidebar views list her work and her queues a page at a time, with counts."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from core.keyset import capped_count, keyset_page
from routing.models import Assignment, AssignmentReason
from tests.factories import ShopperFactory, TicketFactory, category, queue
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db


def ids_on(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-ticket-id="(\d+)"', html)]


@pytest.fixture
def wang(db):
    return ShopperFactory.create(
        external_id="u-wang-88", name="Wang Fang", phone="+8613800138000", email="wang@example.com"
    )


@pytest.fixture
def anas_ticket(ana, wang):
    """A ticket Ana holds: a broken necklace clasp, order SO-20261106-77."""
    return TicketFactory.create(
        shopper=wang,
        body="项链的扣子坏了，能换一个吗？ The clasp broke on day two.",
        status=TicketStatus.ASSIGNED,
        assigned_agent=ana.user,
        queue=queue("jewelry"),
        category=category("jewelry"),
        order_number="SO-20261106-77",
    )


@pytest.mark.parametrize(
    "query",
    [
        "#{id}",
        "{id}",
        "SO-20261106-77",
        "u-wang-88",
        "wang fang",
        "13800138000",
        "WANG@example",
        "扣子坏了",
        "CLASP BROKE",
    ],
)
def test_an_agent_finds_her_ticket_by_number_order_shopper_or_words(signed_in, ana, anas_ticket, query) -> None:
    TicketFactory.create(body="别人的问题", status=TicketStatus.ASSIGNED, assigned_agent=ana.user)

    response = signed_in(ana).get("/console/search/", {"q": query.format(id=anas_ticket.id)})

    assert response.status_code == 200
    assert ids_on(response.text) == [anas_ticket.id]


def test_search_lists_only_what_the_agent_may_open(signed_in, ana, sam, wang) -> None:
    waiting_for_mei = TicketFactory.create(
        shopper=wang, body="宝宝奶粉什么时候到", status=TicketStatus.QUEUED, queue=queue("maternal_baby")
    )
    waiting_for_ana = TicketFactory.create(
        shopper=wang, body="戒指什么时候到", status=TicketStatus.QUEUED, queue=queue("jewelry")
    )

    assert ids_on(signed_in(ana).get("/console/search/", {"q": "u-wang-88"}).text) == [waiting_for_ana.id]
    assert set(ids_on(signed_in(sam).get("/console/search/", {"q": "u-wang-88"}).text)) == {
        waiting_for_mei.id,
        waiting_for_ana.id,
    }
    assert ids_on(signed_in(ana).get("/console/search/", {"q": f"#{waiting_for_mei.id}"}).text) == []


def test_a_month_old_ticket_she_resolved_is_found_by_its_order_number(signed_in, ana) -> None:
    month_ago = timezone.now() - timedelta(days=31)
    old = TicketFactory.create(
        status=TicketStatus.CLOSED,
        assigned_agent=ana.user,
        order_number="SO-OLD-1",
        created_at=month_ago,
        resolved_at=month_ago,
    )
    page = signed_in(ana).get("/console/search/", {"q": "SO-OLD-1"}).text
    assert ids_on(page) == [old.id]
    assert f'href="/console/tickets/{old.id}/"' in page


def test_an_empty_or_too_long_search_is_explained(signed_in, ana) -> None:
    client = signed_in(ana)
    empty = client.get("/console/search/", {"q": "  "})
    assert empty.status_code == 200 and "Type what you are looking for" in empty.text

    too_long = client.get("/console/search/", {"q": "x" * 101})
    assert too_long.status_code == 400
    assert "Search for at most 100 characters." in too_long.text


def test_results_come_a_page_at_a_time_newest_first_with_next_and_previous(signed_in, ana, wang) -> None:
    start = timezone.now() - timedelta(days=3)
    tickets = [
        TicketFactory.create(
            shopper=wang, status=TicketStatus.RESOLVED, assigned_agent=ana.user, created_at=start + timedelta(minutes=n)
        )
        for n in range(30)
    ]
    newest_first = [t.id for t in reversed(tickets)]
    client = signed_in(ana)

    first = client.get("/console/search/", {"q": "u-wang-88"}).text
    assert ids_on(first) == newest_first[:25]
    next_url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).text
    assert ids_on(second) == newest_first[25:]
    assert 'rel="next"' not in second
    previous_url = re.search(r'rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    assert ids_on(client.get(previous_url).text) == newest_first[:25]


def test_a_tampered_page_link_is_a_clear_400(signed_in, ana) -> None:
    response = signed_in(ana).get("/console/views/resolved/", {"after": "bm90IGEgY3Vyc29y"})
    assert response.status_code == 400
    assert "This page link is not valid any more." in response.text


def test_the_sidebar_counts_each_view_and_supervisors_get_theirs(signed_in, ana, sam) -> None:
    jewelry = queue("jewelry")
    TicketFactory.create(status=TicketStatus.ASSIGNED, assigned_agent=ana.user, queue=jewelry)
    TicketFactory.create(status=TicketStatus.WAITING_ON_SHOPPER, assigned_agent=ana.user, queue=jewelry)
    TicketFactory.create(status=TicketStatus.RESOLVED, assigned_agent=ana.user, resolved_at=timezone.now())
    TicketFactory.create(
        status=TicketStatus.CLOSED, assigned_agent=ana.user, resolved_at=timezone.now() - timedelta(days=8)
    )
    for _ in range(3):
        TicketFactory.create(status=TicketStatus.QUEUED, queue=jewelry, queued_at=timezone.now())
    TicketFactory.create(status=TicketStatus.QUEUED, queue=jewelry, queued_at=timezone.now(), sla_breached=True)

    page = signed_in(ana).get("/console/").text

    def count(slug: str, html: str) -> str:
        return re.search(rf'id="view-{slug}"[^>]*>.*?<span class="count">([^<]+)</span>', html, re.S).group(1)

    assert count("mine", page) == "2"
    assert count("waiting-on-shopper", page) == "1"
    assert count("resolved", page) == "1"
    assert count(f"queue-{jewelry.id}", page) == "4"
    assert 'id="view-past-sla"' not in page and 'id="view-all"' not in page
    assert signed_in(ana).get("/console/views/past-sla/").status_code == 404

    supervisor = signed_in(sam).get("/console/").text
    assert count("past-sla", supervisor) == "1"
    assert count("all", supervisor) == "6"
    past_sla = signed_in(sam).get("/console/views/past-sla/").text
    assert len(ids_on(past_sla)) == 1


def test_a_queue_view_lists_the_waiting_line_in_order(signed_in, ana) -> None:
    jewelry = queue("jewelry")
    now = timezone.now()
    older = TicketFactory.create(status=TicketStatus.QUEUED, queue=jewelry, queued_at=now - timedelta(minutes=5))
    newer = TicketFactory.create(status=TicketStatus.QUEUED, queue=jewelry, queued_at=now)
    urgent = TicketFactory.create(
        status=TicketStatus.QUEUED, queue=jewelry, queued_at=now, priority=Ticket.PRIORITY_TOP
    )

    page = signed_in(ana).get(f"/console/views/queue-{jewelry.id}/").text

    assert ids_on(page) == [urgent.id, older.id, newer.id]
    # Not one of Ana's queues: no such view for her.
    assert signed_in(ana).get(f"/console/views/queue-{queue('maternal_baby').id}/").status_code == 404


def test_keyset_pages_walk_a_mixed_ordering_without_gaps_or_repeats(ana) -> None:
    jewelry = queue("jewelry")
    now = timezone.now()
    for n in range(23):
        TicketFactory.create(
            status=TicketStatus.QUEUED,
            queue=jewelry,
            priority=Ticket.PRIORITY_TOP if n % 4 == 0 else 0,
            queued_at=now - timedelta(minutes=n % 5),
        )
    rows = Ticket.objects.filter(queue=jewelry)
    order = ("-priority", "queued_at", "id")
    expected = list(rows.order_by(*order).values_list("id", flat=True))

    seen, cursor, pages = [], "", []
    while True:
        page = keyset_page(rows, order=order, size=5, after=cursor)
        seen += [t.id for t in page.rows]
        pages.append(page)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == expected
    assert pages[-1].previous_cursor is not None
    back = keyset_page(rows, order=order, size=5, before=pages[-1].previous_cursor)
    assert [t.id for t in back.rows] == [t.id for t in pages[-2].rows]


def test_a_count_stops_at_its_cap(ana) -> None:
    for _ in range(5):
        TicketFactory()
    assert capped_count(Ticket.objects.all(), cap=3) == 4
    assert capped_count(Ticket.objects.all(), cap=10) == 5


@pytest.fixture
def transferred_away(ana, bo, wang):
    """A ticket Ana held, now Bo's (a supervisor moved it)."""
    ticket = TicketFactory.create(
        shopper=wang,
        body="戒指尺寸偏大",
        status=TicketStatus.ASSIGNED,
        assigned_agent=bo.user,
        queue=queue("jewelry"),
        order_number="SO-MOVED-1",
    )
    Assignment.objects.create(
        ticket=ticket,
        agent=ana.user,
        reason=AssignmentReason.ROUTING,
        ended_at=timezone.now(),
        end_reason="transferred",
    )
    Assignment.objects.create(ticket=ticket, agent=bo.user, reason=AssignmentReason.TRANSFER)
    return ticket


def test_a_former_agent_reads_a_transferred_ticket_but_cannot_act_on_it(signed_in, ana, transferred_away) -> None:
    client = signed_in(ana)

    page = client.get(f"/console/tickets/{transferred_away.id}/")

    assert page.status_code == 200
    assert 'id="read-only-notice"' in page.text and "You worked on this ticket" in page.text
    assert "data-live-url" not in page.text
    for form in ("reply-form", "note-form", "resolve-form", "recategorize-form", "transfer-form", "take-form"):
        assert f'id="{form}"' not in page.text, form
    # A tab left open learns the ticket left through the live fragment, as before.
    assert client.get(f"/console/tickets/{transferred_away.id}/live/").status_code == 404
    assert client.post(f"/console/tickets/{transferred_away.id}/reply/", {"body": "hello"}).status_code == 404
    assert client.post(f"/console/tickets/{transferred_away.id}/notes/", {"body": "hi"}).status_code == 404
    assert ids_on(client.get("/console/search/", {"q": "SO-MOVED-1"}).text) == [transferred_away.id]


def test_a_ticket_the_agent_never_held_stays_a_404(signed_in, mei, transferred_away) -> None:
    assert signed_in(mei).get(f"/console/tickets/{transferred_away.id}/").status_code == 404
