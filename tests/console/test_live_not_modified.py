"""A live fragment the page re-reads answers "unchanged" (304) cheaply, and never hides a change.

The page sends back the ETag of its last read; the server answers 304 from the cache alone (no
query, no template) while nothing the page shows has changed, and the full fragment once
something has: a change for this agent, their queue, or the ticket on screen.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from console import live, selectors
from routing.services import set_agent_status
from teams.models import AgentProfile, AgentStatus
from tickets.models import Ticket

INBOX = "/console/inbox/live/"


def etag_of(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return str(response["ETag"])


@pytest.fixture
def online(django_capture_on_commit_callbacks: Any) -> Callable[[AgentProfile], None]:
    def make(agent: AgentProfile) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            set_agent_status(agent=agent, status=AgentStatus.ONLINE)

    return make


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any, inquiry: Callable[..., Ticket]) -> Callable[..., Ticket]:
    """An inquiry whose transaction commits (its after-commit hooks run: versions, hints)."""

    def make(*args: Any, **kwargs: Any) -> Ticket:
        with django_capture_on_commit_callbacks(execute=True):
            return inquiry(*args, **kwargs)

    return make


def test_an_unchanged_inbox_is_a_304_without_a_single_query(signed_in, ana, django_assert_num_queries) -> None:
    client = signed_in(ana)
    etag = etag_of(client, INBOX)

    with django_assert_num_queries(0):
        response = client.get(INBOX, headers={"if-none-match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_a_ticket_assigned_to_me_makes_the_next_read_full(signed_in, ana, online, committed) -> None:
    online(ana)
    client = signed_in(ana)
    etag = etag_of(client, INBOX)

    ticket = committed("我的戒指尺寸偏大，转人工！")

    response = client.get(INBOX, headers={"if-none-match": etag})
    assert response.status_code == 200
    assert f"/console/tickets/{ticket.id}/" in response.text
    assert response["ETag"] != etag


def test_a_change_in_another_agents_queue_leaves_my_inbox_unchanged(signed_in, ana, mei, online, committed) -> None:
    online(mei)
    client = signed_in(ana)
    etag = etag_of(client, INBOX)

    committed("奶瓶漏水", category="maternal_baby")

    assert client.get(INBOX, headers={"if-none-match": etag}).status_code == 304


def test_the_ticket_page_is_full_again_once_its_ticket_changes(signed_in, ana, online, committed, inquiry) -> None:
    online(ana)
    ticket = committed("我的戒指尺寸偏大，转人工！")
    client = signed_in(ana)
    url = f"/console/tickets/{ticket.id}/live/"
    etag = etag_of(client, url)
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304

    live.bump([live.ticket_group(ticket.id)])  # what every committed change of it does

    assert client.get(url, headers={"if-none-match": etag}).status_code == 200


def test_a_failing_cache_means_a_full_read(signed_in, ana, monkeypatch) -> None:
    client = signed_in(ana)
    etag = etag_of(client, INBOX)

    class Down:
        def get_many(self, keys: Any) -> Any:
            raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(live, "cache", Down())

    response = client.get(INBOX, headers={"if-none-match": etag})
    assert response.status_code == 200
    assert "ETag" not in response  # nothing to promise without versions


def test_a_missing_version_means_a_full_read(signed_in, ana) -> None:
    client = signed_in(ana)
    etag = etag_of(client, INBOX)
    live.cache.delete(live.VERSION_KEY.format(f"agent.{ana.user_id}"))

    assert client.get(INBOX, headers={"if-none-match": etag}).status_code == 200


def test_another_users_etag_is_never_answered_304(signed_in, ana, bo) -> None:
    etag = etag_of(signed_in(ana), INBOX)

    assert signed_in(bo).get(INBOX, headers={"if-none-match": etag}).status_code == 200


def test_a_signed_out_page_is_sent_to_log_in_whatever_it_sends(signed_in, ana, client) -> None:
    etag = etag_of(signed_in(ana), INBOX)

    response = client.get(INBOX, headers={"if-none-match": etag})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_change_committed_while_the_fragment_renders_is_never_lost(
    signed_in, ana, online, committed, monkeypatch
) -> None:
    """The render reads the database before the change commits; the change's version bump comes
    after the render read the versions, so the next re-read is full and shows it."""
    online(ana)
    client = signed_in(ana)
    made: list[Ticket] = []
    real_my_tickets = selectors.my_tickets

    def mine_then_a_change(user: Any) -> Any:
        mine = real_my_tickets(user)  # evaluated: the rows are read here
        made.append(committed("我的戒指尺寸偏大，转人工！"))  # commits after the read above
        return mine

    monkeypatch.setattr(selectors, "my_tickets", mine_then_a_change)
    first = client.get(INBOX)
    monkeypatch.setattr(selectors, "my_tickets", real_my_tickets)
    assert f"/console/tickets/{made[0].id}/" not in first.text

    again = client.get(INBOX, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 200
    assert f"/console/tickets/{made[0].id}/" in again.text
