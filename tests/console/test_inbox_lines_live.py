"""The inbox re-reads two fragments: its own parts (at once, on the agent's own changes) and the
parts a queue's changes touch (the waiting line, on a queue's hints). A queue's change never
costs the own fragment a render; the waiting line is rendered once per change for every agent of
the same queues, each getting their own CSRF token; and no change is ever lost between the two."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from console import live, selectors
from routing.services import set_agent_status
from teams.models import AgentStatus
from tests.conftest import _agent
from tests.factories import TicketFactory, queue
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db

OWN = "/console/inbox/live/"
LINES = "/console/inbox/live/lines/"


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any, inquiry: Callable[..., Ticket]) -> Callable[..., Ticket]:
    def make(*args: Any, **kwargs: Any) -> Ticket:
        with django_capture_on_commit_callbacks(execute=True):
            return inquiry(*args, **kwargs)

    return make


def waiting_in_jewelry() -> Ticket:
    """A ticket that joins the jewelry line (its queue's version is bumped, as a commit does)."""
    ticket = TicketFactory.create(status=TicketStatus.QUEUED, queue=queue("jewelry"))
    live.bump([f"queue.{ticket.queue_id}"])
    return ticket


def test_the_inbox_page_names_both_live_urls(signed_in, ana) -> None:
    page = signed_in(ana).get("/console/").text
    assert f'data-live-url="{OWN}"' in page and f'data-shared-live-url="{LINES}"' in page


def test_a_queue_change_leaves_the_own_fragment_304_and_reaches_the_lines(
    signed_in, ana, django_capture_on_commit_callbacks
) -> None:
    client = signed_in(ana)
    own, lines = client.get(OWN), client.get(LINES)
    assert 'id="waiting-tickets"' not in own.text and 'id="my-tickets"' in own.text
    assert 'id="waiting-tickets"' in lines.text and 'id="my-tickets"' not in lines.text

    ticket = waiting_in_jewelry()

    assert client.get(OWN, headers={"if-none-match": own["ETag"]}).status_code == 304
    again = client.get(LINES, headers={"if-none-match": lines["ETag"]})
    assert again.status_code == 200
    assert f'data-ticket-id="{ticket.id}"' in again.text


def test_my_own_assignment_reaches_the_own_fragment(
    signed_in, ana, committed, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        set_agent_status(agent=ana, status=AgentStatus.ONLINE)
    client = signed_in(ana)
    own = client.get(OWN)

    ticket = committed("我的戒指尺寸偏大，转人工！")

    again = client.get(OWN, headers={"if-none-match": own["ETag"]})
    assert again.status_code == 200
    assert f'data-ticket-id="{ticket.id}"' in again.text.split('id="my-tickets"')[1]


def test_one_render_of_the_line_serves_every_agent_of_the_same_queues_with_their_own_token(
    signed_in, ana, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    twin = _agent("jade", ["jewelry"])
    ticket = waiting_in_jewelry()
    renders: list[int] = []
    real = selectors.queue_lines

    def counted(user: Any) -> Any:
        renders.append(user.pk)
        return real(user)

    monkeypatch.setattr(selectors, "queue_lines", counted)
    first = signed_in(ana).get(LINES)
    other = Client(enforce_csrf_checks=True)
    other.force_login(twin.user)
    second = other.get(LINES)

    assert first.status_code == second.status_code == 200
    assert renders == [ana.user_id]  # the second agent got the first one's render
    assert live.CSRF_PLACEHOLDER not in second.text

    def line(html: str) -> str:
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html[html.index('id="waiting-tickets"') :])

    assert line(second.text) == line(first.text)
    assert f'data-ticket-id="{ticket.id}"' in line(second.text)
    # The take button's token is the second agent's own: taking the ticket is accepted.
    taken = second.text[second.text.index('id="waiting-tickets"') :]
    token = taken.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = other.post(f"/console/tickets/{ticket.id}/take/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).assigned_agent_id == twin.user_id


def test_a_change_after_the_shared_render_is_never_hidden_by_it(
    signed_in, ana, django_capture_on_commit_callbacks
) -> None:
    client = signed_in(ana)
    first = client.get(LINES)
    ticket = waiting_in_jewelry()

    again = client.get(LINES)  # no ETag: the cache alone must not serve the older line

    assert f'data-ticket-id="{ticket.id}"' in again.text
    assert again.text != first.text


def test_a_failing_cache_still_renders_the_line(
    signed_in, ana, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    ticket = waiting_in_jewelry()

    class Down:
        def get_many(self, keys: Any) -> Any:
            raise ConnectionError("Redis is restarting")

        def get(self, key: Any, default: Any = None) -> Any:
            raise ConnectionError("Redis is restarting")

        def set(self, *args: Any, **kwargs: Any) -> None:
            raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(live, "cache", Down())
    response = signed_in(ana).get(LINES)
    assert response.status_code == 200
    assert f'data-ticket-id="{ticket.id}"' in response.text


def test_selectors_split_the_inbox(ana) -> None:
    assert selectors.my_tickets(ana.user).total == 0
    assert selectors.queue_lines(ana.user).with_others is None


def test_the_panels_actions_in_the_lines_fragment_return_to_the_inbox(signed_in, ana) -> None:
    """A panel's form sent from a swapped-in part comes back to the page, not to the fragment."""
    from django.utils import timezone

    from callbacks.models import Callback

    ticket = TicketFactory.create(status=TicketStatus.ASSIGNED, assigned_agent=ana.user, queue=queue("jewelry"))
    Callback.objects.create(
        ticket=ticket, queue=queue("jewelry"), owner=ana.user, surfaced_to=ana.user, booked_by="agent",
        phone="+8613800138000", scheduled_at=timezone.now(), status="due",
    )  # fmt: skip
    lines = signed_in(ana).get(LINES).text
    assert 'name="next" value="/console/"' in lines
    assert LINES not in lines.split('id="waiting-tickets"')[0]


def test_a_line_only_read_leaves_the_panels_out_and_never_answers_for_the_full_one(signed_in, ana) -> None:
    client = signed_in(ana)
    full = client.get(LINES)
    lean = client.get(LINES + "?panels=0")
    assert 'id="due-callbacks"' in full.text and 'id="due-callbacks"' not in lean.text
    assert 'id="waiting-tickets"' in lean.text and 'id="sidebar-views"' in lean.text
    # Each representation has its own ETag: a page that last read the lean one gets the panels
    # in full when it asks for them, and a 304 only for the same representation.
    assert lean["ETag"] != full["ETag"]
    assert client.get(LINES, headers={"if-none-match": lean["ETag"]}).status_code == 200
    assert client.get(LINES + "?panels=0", headers={"if-none-match": lean["ETag"]}).status_code == 304
    assert client.get(LINES, headers={"if-none-match": full["ETag"]}).status_code == 304
