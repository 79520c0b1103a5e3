"""Presence from the console: agents whose consoles all went quiet stop getting work; a second
tab keeps presence; logging out goes offline; a console coming back restores Online."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels import consumer as channels_consumer
from channels.testing import WebsocketCommunicator
from django.db import OperationalError
from django.utils import timezone

from console import consumers
from console.consumers import ConsoleConsumer
from console.push import HINT_TYPE, agent_group
from routing.services import dispatch_queue, record_consoles_seen, set_agent_status, sweep_absent_agents
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
    record_consoles_seen(user_ids=[ana.user_id])
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
        record_consoles_seen(user_ids=[online_ana.user_id])  # the second tab's heartbeat
    with time_machine.travel(start + timedelta(seconds=100)):
        sweep_absent_agents()
    assert status_of(online_ana) == (AgentStatus.ONLINE, False)


def test_a_console_coming_back_restores_online_but_never_overrides_a_chosen_away(online_ana: AgentProfile) -> None:
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        sweep_absent_agents()
    record_consoles_seen(user_ids=[online_ana.user_id])
    assert status_of(online_ana) == (AgentStatus.ONLINE, False)

    set_agent_status(agent=online_ana, status=AgentStatus.AWAY)  # her own choice
    record_consoles_seen(user_ids=[online_ana.user_id])
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
        assert record_consoles_seen(user_ids=[online_ana.user_id])
    set_agent_status(agent=online_ana, status=AgentStatus.AWAY)  # the agent's own choice stays
    with django_assert_num_queries(1):
        assert record_consoles_seen(user_ids=[online_ana.user_id])
    assert status_of(online_ana) == (AgentStatus.AWAY, False)


def test_the_heartbeats_of_many_consoles_are_written_together_and_a_failed_write_is_kept(
    online_ana: AgentProfile, bo: AgentProfile, monkeypatch: Any
) -> None:
    """A thousand consoles beat fifty times a second: a socket process writes them in one statement
    every few seconds. A write that fails (the database blinks) keeps them for the next."""
    monkeypatch.setattr(consumers, "PRESENCE_WRITE_SECONDS", 0.0)
    monkeypatch.setattr(consumers, "PRESENCE_FLUSH_SECONDS", 0.2)
    set_agent_status(agent=bo, status=AgentStatus.ONLINE)
    writes: list[set[int]] = []
    real = consumers.record_consoles_seen
    fail_write: list[int] = []  # the index of the write that fails: the first after the connects

    def record(*, user_ids: set[int]) -> int:
        writes.append(set(user_ids))
        if len(writes) - 1 in fail_write:
            raise OperationalError("the database blinked")
        return real(user_ids=user_ids)

    monkeypatch.setattr(consumers, "record_consoles_seen", record)
    users = [online_ana.user, bo.user]

    async def scenario() -> None:
        sockets = [WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/") for _ in users]
        for socket, user in zip(sockets, users, strict=True):
            socket.scope["user"] = user
            assert (await socket.connect())[0]
        while len(writes) < len(users):  # a connect is written just after the socket is accepted
            await asyncio.sleep(0.01)
        connects = len(writes)
        fail_write.append(connects)
        for socket in sockets:
            await socket.send_json_to({"type": "heartbeat"})
        await asyncio.sleep(0.05)
        assert len(writes) == connects  # nothing written yet: gathered
        deadline = asyncio.get_running_loop().time() + 5
        while len(writes) < connects + 2 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        for socket in sockets:
            await socket.disconnect()
        # The first write of both beats failed; the same two users were written again, together.
        assert writes[connects:] == [{online_ana.user_id, bo.user_id}] * 2

    before = timezone.now()
    AgentProfile.objects.filter(pk__in=[online_ana.pk, bo.pk]).update(last_seen_at=None)
    async_to_sync(scenario)()
    for agent in (online_ana, bo):
        seen = AgentProfile.objects.get(pk=agent.pk).last_seen_at
        assert seen is not None and seen >= before


def test_a_hint_reaches_the_page_without_a_stale_connection_check_and_a_connect_still_has_one(
    online_ana: AgentProfile, memory_layer: Any, monkeypatch: Any
) -> None:
    """Channels closes stale database connections (a hop to the views' thread) before every message
    a consumer handles; hints and heartbeats touch no database, so the console skips it for them.
    If Channels stops doing it (or renames what it calls), this test says the override can go."""
    checks: list[str] = []

    async def counted() -> None:
        checks.append("checked")

    monkeypatch.setattr(channels_consumer, "aclose_old_connections", counted)
    user = online_ana.user

    async def scenario() -> dict[str, Any]:
        socket = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
        socket.scope["user"] = user
        assert (await socket.connect())[0]
        on_connect = len(checks)
        await memory_layer.group_send(agent_group(user.pk), {"type": HINT_TYPE, "ticket_id": 1, "status": "assigned"})
        hint = await socket.receive_json_from(timeout=3)
        await socket.send_json_to({"type": "heartbeat"})
        await asyncio.sleep(0.2)  # the heartbeat handled
        after_hint_and_beat = len(checks)
        await socket.disconnect()
        assert on_connect >= 1 and after_hint_and_beat == on_connect
        return hint

    assert async_to_sync(scenario)()["ticket_id"] == 1
