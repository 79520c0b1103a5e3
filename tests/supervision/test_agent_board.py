"""Sam's dashboard shows the floor as counts and exceptions, and the agent list pages through all.

However many agents there are, the board holds one count per status and only the agents who need
a supervisor (set away after missed offers, away with no console open, not online while holding
tickets), at most AGENT_BOARD_ROWS of them, then "+N more" linking to the agent list. The list is
keyset-paged, searchable by name and filtered by the same status buckets; bad input is a 400 with
the field's error, never a 500.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from supervision.selectors import AGENT_BOARD_ROWS, AGENT_LIST_PAGE_SIZE, agent_board_summary, forget_health
from teams.models import AgentProfile, AgentStatus
from tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.django_db

LIVE = "/console/dashboard/live/"
AGENTS = "/console/dashboard/agents/"


def agent(username: str, **fields: object) -> AgentProfile:
    return AgentFactory.create(user=UserFactory.create(username=username), skills=["jewelry"], **fields)


def board_of(html: str) -> str:
    return html[html.index('id="agent-board"') : html.index('id="satisfaction"')]


def test_the_board_counts_every_status_and_lists_only_who_needs_attention(sam, signed_in) -> None:
    agent("free")
    agent("full", active_ticket_count=3, capacity=3)
    agent("lunch", status=AgentStatus.AWAY)
    agent("closed_tab", status=AgentStatus.AWAY, status_set_by_presence=True)
    agent("ignored_offers", status=AgentStatus.AWAY, missed_offer_streak=3)
    agent("gone_home", status=AgentStatus.OFFLINE, active_ticket_count=2)

    summary = agent_board_summary()

    # Sam (a supervisor with a profile) is online with nothing to do: available.
    assert summary.counts == {"available": 2, "busy": 1, "away": 2, "away_no_console": 1, "offline": 1}
    assert sum(summary.counts.values()) == summary.total == AgentProfile.objects.count()
    assert [(row.username, row.reason) for row in summary.rows] == [
        ("ignored_offers", "missed_offers"),
        ("closed_tab", "no_console"),
        ("gone_home", "holding_tickets"),
    ]
    board = board_of(signed_in(sam).get(LIVE).text)
    assert re.findall(r'data-agent="([^"]+)"', board) == ["ignored_offers", "closed_tab", "gone_home"]
    assert 'data-bucket="away_no_console"' in board and "?status=away_no_console" in board
    assert "Set away after missed offers" in board and "(missed 3 offers in a row)" in board


def test_the_longest_in_trouble_comes_first_within_a_reason(sam) -> None:
    now = timezone.now()
    agent("recent", status=AgentStatus.AWAY, status_set_by_presence=True, status_since=now - timedelta(minutes=1))
    agent("hours", status=AgentStatus.AWAY, status_set_by_presence=True, status_since=now - timedelta(hours=2))

    assert [row.username for row in agent_board_summary().rows] == ["hours", "recent"]


def test_a_large_floor_is_capped_with_a_link_to_the_rest(sam, signed_in, django_assert_max_num_queries) -> None:
    for n in range(AGENT_BOARD_ROWS + 5):
        agent(f"closed{n:02d}", status=AgentStatus.AWAY, status_set_by_presence=True)
    for n in range(20):
        agent(f"busy{n:02d}")
    client = signed_in(sam)
    client.get(LIVE)

    forget_health()
    board = board_of(client.get(LIVE).text)

    assert board.count('data-agent="') == AGENT_BOARD_ROWS
    assert 'data-agent="busy' not in board
    assert "+5 more needing attention" in board
    assert f'href="{AGENTS}?status=attention"' in board


def test_the_agent_list_pages_through_every_agent_with_keyset_links(sam, signed_in) -> None:
    for n in range(AGENT_LIST_PAGE_SIZE + 3):
        agent(f"floor{n:02d}")
    client = signed_in(sam)

    first = client.get(AGENTS, {"q": "floor"})
    assert first.status_code == 200
    names = re.findall(r'<tr data-agent="([^"]+)"', first.text)
    assert len(names) == AGENT_LIST_PAGE_SIZE
    next_url = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert next_url is not None
    second = client.get(next_url.group(1).replace("&amp;", "&"))
    rest = re.findall(r'<tr data-agent="([^"]+)"', second.text)

    assert sorted(names + rest) == [f"floor{n:02d}" for n in range(AGENT_LIST_PAGE_SIZE + 3)]
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text


def test_the_agent_list_finds_by_name_and_filters_by_status(sam, signed_in) -> None:
    agent("ana_like", display_name="Anabel")
    agent("closed_tab", status=AgentStatus.AWAY, status_set_by_presence=True)
    client = signed_in(sam)

    found = client.get(AGENTS, {"q": "anab"}).text
    assert re.findall(r'<tr data-agent="([^"]+)"', found) == ["ana_like"]
    away = client.get(AGENTS, {"status": "away_no_console"}).text
    assert re.findall(r'<tr data-agent="([^"]+)"', away) == ["closed_tab"]
    attention = client.get(AGENTS, {"status": "attention"}).text
    assert re.findall(r'<tr data-agent="([^"]+)"', attention) == ["closed_tab"]
    assert "No agent matches." in client.get(AGENTS, {"q": "nobody-by-that-name"}).text


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"status": "sleeping"}, "Select a valid choice"),
        ({"q": "x" * 81}, "Search for at most 80 characters."),
        ({"after": "not-a-cursor"}, "This page link is not valid any more"),
    ],
)
def test_bad_list_input_is_a_400_that_says_what_is_wrong(sam, signed_in, params, error) -> None:
    response = signed_in(sam).get(AGENTS, params)

    assert response.status_code == 400
    assert error in response.text


def test_an_agent_cannot_open_the_agent_list(ana, signed_in) -> None:
    assert signed_in(ana).get(AGENTS).status_code == 403


def test_setting_a_status_from_the_list_returns_to_the_same_page_of_it(sam, signed_in) -> None:
    kai = agent("kai", status=AgentStatus.AWAY, status_set_by_presence=True)
    back = f"{AGENTS}?status=away_no_console"

    response = signed_in(sam).post(
        f"/console/dashboard/agents/{kai.pk}/status/", {"status": AgentStatus.ONLINE, "next": back}
    )

    assert response.status_code == 302
    assert response["Location"] == back
    kai.refresh_from_db()
    assert kai.status == AgentStatus.ONLINE


def test_a_list_page_costs_the_same_few_queries_however_many_agents(
    sam, signed_in, django_assert_max_num_queries
) -> None:
    client = signed_in(sam)
    for n in range(3):
        agent(f"few{n}")
    client.get(AGENTS)
    with django_assert_max_num_queries(30) as few:
        assert client.get(AGENTS).status_code == 200
    queries = len(few)  # read now: the next request resets Django's query log
    for n in range(20):
        agent(f"many{n:02d}")
    forget_health()
    client.get(AGENTS)  # the figures' payload is recomputed once

    with django_assert_max_num_queries(queries):
        assert client.get(AGENTS).status_code == 200
