"""Presence from the console: agents whose consoles all went quiet stop getting work; a second
tab keeps presence; logging out goes offline; a console coming back restores Online."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from console.consumers import ConsoleConsumer
from routing.services import dispatch_queue, record_console_seen, set_agent_status, sweep_absent_agents
from supervision.selectors import agent_board
from teams.models import AgentProfile, AgentStatus
from tests.factories import AgentFactory, UserFactory, queue
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def status_of(agent: AgentProfile) -> tuple[str, bool]:
    fresh = AgentProfile.objects.get(pk=agent.pk)
    return fresh.status, fresh.status_set_by_presence


@pytest.fixture
def online_ana(ana: AgentProfile, settings: Any) -> AgentProfile:
    settings.PRESENCE_AWAY_SECONDS = 60
    settings.PRESENCE_OFFLINE_SECONDS = 900
    set_agent_status(agent=ana, status=AgentStatus.ONLINE)
    record_console_seen(user_id=ana.user_id)
    return ana


def test_a_console_quiet_past_the_limit_sets_the_agent_away_and_shows_why(online_ana: AgentProfile) -> None:
    with time_machine.travel(timezone.now() + timedelta(seconds=59)):
        assert sweep_absent_agents() == {"away": 0, "offline": 0}
    assert status_of(online_ana) == (AgentStatus.ONLINE, False)

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert sweep_absent_agents()["away"] == 1
        assert sweep_absent_agents()["away"] == 0  # a second sweep changes nothing
    assert status_of(online_ana) == (AgentStatus.AWAY, True)
    row = next(r for r in agent_board() if r.username == "ana")
    assert row.no_console and row.as_dict()["no_console"] is True


def test_past_the_longer_limit_the_agent_goes_offline_and_waiting_work_returns(
    online_ana: AgentProfile, bo: AgentProfile, inquiry: Any
) -> None:
    set_agent_status(agent=bo, status=AgentStatus.AWAY)
    ticket = inquiry()
    # Serve the line here too: a kick flag left in the shared cache by an earlier test would
    # otherwise leave the ticket to the sweep.
    dispatch_queue(queue_id=queue("jewelry").id)
    assert Ticket.objects.get(pk=ticket.pk).assigned_agent_id == online_ana.user_id

    with time_machine.travel(timezone.now() + timedelta(seconds=901)):
        counts = sweep_absent_agents()
    assert counts["offline"] == 1
    assert status_of(online_ana) == (AgentStatus.OFFLINE, True)
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.QUEUED


def test_any_open_tab_keeps_the_agent_present(online_ana: AgentProfile) -> None:
    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=50)):
        record_console_seen(user_id=online_ana.user_id)  # the second tab's heartbeat
    with time_machine.travel(start + timedelta(seconds=100)):
        sweep_absent_agents()
    assert status_of(online_ana) == (AgentStatus.ONLINE, False)


def test_a_console_coming_back_restores_online_but_never_overrides_a_chosen_away(online_ana: AgentProfile) -> None:
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        sweep_absent_agents()
    record_console_seen(user_id=online_ana.user_id)
    assert status_of(online_ana) == (AgentStatus.ONLINE, False)

    set_agent_status(agent=online_ana, status=AgentStatus.AWAY)  # her own choice
    record_console_seen(user_id=online_ana.user_id)
    assert status_of(online_ana) == (AgentStatus.AWAY, False)


def test_agents_who_never_opened_a_console_are_left_alone(settings: Any) -> None:
    settings.PRESENCE_AWAY_SECONDS = 60
    api_agent = AgentFactory.create(user=UserFactory.create(username="robot"), skills=["jewelry"])
    set_agent_status(agent=api_agent, status=AgentStatus.ONLINE)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert sweep_absent_agents() == {"away": 0, "offline": 0}


def test_the_console_socket_records_presence_on_connect_and_heartbeat(online_ana: AgentProfile) -> None:
    AgentProfile.objects.filter(pk=online_ana.pk).update(last_seen_at=None)
    user = online_ana.user  # read here: the scenario runs in an event loop

    async def scenario() -> None:
        communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
        communicator.scope["user"] = user
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to({"type": "heartbeat"})
        await communicator.send_json_to({"type": "something else"})
        await communicator.disconnect()

    async_to_sync(scenario)()
    assert AgentProfile.objects.get(pk=online_ana.pk).last_seen_at is not None


def test_logging_out_sets_the_agent_offline(online_ana: AgentProfile, signed_in: Any) -> None:
    client = signed_in(online_ana)
    client.post("/accounts/logout/")
    assert status_of(online_ana)[0] == AgentStatus.OFFLINE


def test_a_heartbeat_of_an_agent_whose_status_is_their_own_is_one_statement(
    online_ana: AgentProfile, django_assert_num_queries: Any
) -> None:
    """Every open console's heartbeat lands here (a thousand consoles: fifty a second)."""
    with django_assert_num_queries(1):
        assert record_console_seen(user_id=online_ana.user_id)
    set_agent_status(agent=online_ana, status=AgentStatus.AWAY)  # the agent's own choice stays
    with django_assert_num_queries(1):
        assert record_console_seen(user_id=online_ana.user_id)
    assert status_of(online_ana) == (AgentStatus.AWAY, False)
