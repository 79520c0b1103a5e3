"""Ticket changes reach the consoles that show them, over the channel layer, as hints.

The receiver of tickets.events.ticket_changed fans a hint out to the groups of the agents who had
or have the ticket, of its queue, and of the supervisors; the console's websocket consumer joins
exactly those groups. A channel layer that is down never breaks the write that caused the hint.
"""

import asyncio
import logging
import threading
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser

from console.consumers import ConsoleConsumer
from console.layers import ThreadSafeInMemoryChannelLayer
from console.push import (
    HINT_TYPE,
    SUPERVISORS_GROUP,
    agent_group,
    groups_for_change,
    hint_interval,
    hint_scope,
    push_ticket_change,
    queue_group,
    send_hint,
)
from routing.services import add_shopper_message, set_agent_status
from teams.models import AgentStatus
from tests.factories import UserFactory, queue
from tests.helpers import drain, listening, refreshed
from tests.helpers import run_async as run
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db(
    transaction=True, serialized_rollback=True
)  # hints are merged and sent from another thread


@pytest.fixture(autouse=True)
def _short_queue_interval(settings: Any) -> None:
    """Queue hints merged over 0.5 s, as agents' hints are: the tests that are about the queue's
    longer interval set their own. (Every test starts with no hint held: conftest forgets them.)"""
    settings.CONSOLE_QUEUE_HINT_SECONDS = 2


def connected_as(user: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = user
    return communicator


def test_a_change_is_meant_for_its_agents_its_queue_and_the_supervisors() -> None:
    assert groups_for_change(queue_id=7, agent_ids=[3, 2, 3]) == ["agent.2", "agent.3", "queue.7", SUPERVISORS_GROUP]
    assert groups_for_change(queue_id=None, agent_ids=[]) == [SUPERVISORS_GROUP]


def test_an_assignment_is_pushed_to_the_agent_and_to_her_queue(memory_layer, ana, inquiry) -> None:
    jewelry = queue("jewelry")

    async def scenario() -> None:
        agent_channel = await listening(memory_layer, agent_group(ana.user.id))
        queue_channel = await listening(memory_layer, queue_group(jewelry.id))
        ticket = await database_sync_to_async(inquiry)()

        to_agent = await drain(memory_layer, agent_channel)
        assert {"type": "ticket.changed", "ticket_id": ticket.id, "status": "assigned"}.items() <= to_agent[-1].items()
        assert any(
            hint["status"] == "queued" and hint["queue_id"] == jewelry.id
            for hint in await drain(memory_layer, queue_channel)
        )

    run(scenario)


def test_each_hint_says_whose_change_it_is_so_the_page_knows_how_soon_to_re_read(memory_layer, ana, inquiry) -> None:
    assert [hint_scope(g) for g in ("agent.3", "queue.7", SUPERVISORS_GROUP)] == ["own", "queue", "supervisors"]
    jewelry = queue("jewelry")

    async def scenario() -> None:
        agent_channel = await listening(memory_layer, agent_group(ana.user.id))
        queue_channel = await listening(memory_layer, queue_group(jewelry.id))
        supervisors_channel = await listening(memory_layer, SUPERVISORS_GROUP)
        await database_sync_to_async(inquiry)()

        assert {hint["scope"] for hint in await drain(memory_layer, agent_channel)} == {"own"}
        assert {hint["scope"] for hint in await drain(memory_layer, queue_channel)} == {"queue"}
        assert {hint["scope"] for hint in await drain(memory_layer, supervisors_channel)} == {"supervisors"}

    run(scenario)


def test_a_shopper_message_is_pushed_to_the_agent_who_holds_the_ticket(memory_layer, ana, mei, inquiry) -> None:
    ticket = inquiry()

    async def scenario() -> None:
        anas = await listening(memory_layer, agent_group(ana.user.id))
        meis = await listening(memory_layer, agent_group(mei.user.id))
        # The inquiry's own trailing hint may still be on its way (a loaded machine): let it pass.
        await drain(memory_layer, anas, wait=hint_interval(agent_group(ana.user.id)) + 0.2)
        await database_sync_to_async(add_shopper_message)(ticket_id=ticket.id, body="还在吗？")

        assert [hint["kind"] for hint in await drain(memory_layer, anas)] == ["message"]
        assert await drain(memory_layer, meis, wait=0.05) == []

    run(scenario)


def test_the_console_socket_of_an_agent_hears_about_her_new_ticket(memory_layer, ana, inquiry) -> None:
    async def scenario() -> None:
        socket = connected_as(ana.user)
        connected, _ = await socket.connect()
        assert connected
        ticket = await database_sync_to_async(inquiry)()
        hint = await socket.receive_json_from(timeout=2)
        while (hint["status"], hint["scope"]) != ("assigned", "own"):  # her queue hears of it too
            hint = await socket.receive_json_from(timeout=2)
        assert hint == {
            "type": "ticket.changed",
            "ticket_id": ticket.id,
            "status": "assigned",
            "queue_id": ticket.queue_id,
            "kind": "status",
            "scope": "own",
        }
        await socket.disconnect()

    run(scenario)


def test_an_agent_socket_hears_nothing_of_another_queue_but_a_supervisor_hears_all(
    memory_layer, ana, mei, sam, inquiry
) -> None:
    async def scenario() -> None:
        anas, sams = connected_as(ana.user), connected_as(sam.user)
        assert (await anas.connect())[0] and (await sams.connect())[0]
        baby = await database_sync_to_async(inquiry)("奶瓶漏水", category="maternal_baby")

        assert (await sams.receive_json_from(timeout=2))["ticket_id"] == baby.id
        assert await anas.receive_nothing(timeout=0.2)
        await anas.disconnect()
        await sams.disconnect()

    run(scenario)


def test_a_socket_without_a_signed_in_agent_is_closed(memory_layer, db) -> None:
    visitor = UserFactory(username="visitor")

    async def scenario() -> None:
        for user, code in [(AnonymousUser(), 4401), (visitor, 4403)]:
            connected, close_code = await connected_as(user).connect()
            assert not connected and close_code == code

    run(scenario)


def test_a_hint_sent_from_another_thread_wakes_the_listening_loop_at_once() -> None:
    """The embedded worker thread assigns tickets; its hints must not wait for the web loop to wake."""
    layer = ThreadSafeInMemoryChannelLayer()

    async def scenario() -> float:
        channel = await listening(layer, "agent.1")
        receiving = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0.05)  # the loop now sleeps in receive()
        sent_at = time.monotonic()
        sender = threading.Thread(target=async_to_sync(layer.group_send), args=("agent.1", {"type": "ticket.changed"}))
        sender.start()
        message = await asyncio.wait_for(receiving, 2)
        elapsed = time.monotonic() - sent_at
        await asyncio.to_thread(sender.join)  # never block the loop the sender waits on
        assert message == {"type": "ticket.changed"}
        return elapsed

    assert asyncio.run(scenario()) < 0.5


def test_a_channel_layer_that_is_down_never_breaks_the_write(settings, ana, inquiry, caplog) -> None:
    # Nothing listens on port 1: every hint fails, as with Redis down.
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1"]}}
    }
    caplog.set_level(logging.WARNING, logger="console.push")

    ticket = inquiry()

    assert refreshed(ticket).assigned_agent == ana.user  # the write went through at once
    deadline = time.monotonic() + 5  # the hint thread reports its failure shortly after
    while "pages poll" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "pages poll" in caplog.text
    set_agent_status(agent=ana, status=AgentStatus.AWAY)  # later writes too
    assert refreshed(ticket).status == TicketStatus.ASSIGNED


def test_hints_travel_through_redis(settings, redis_broker, ana, inquiry) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_broker]}}
    }
    assert str(django_settings.CHANNEL_LAYERS["default"]["BACKEND"]).startswith("channels_redis")

    async def scenario() -> None:
        socket = connected_as(ana.user)
        assert (await socket.connect())[0]
        ticket = await database_sync_to_async(inquiry)()
        statuses = []
        while "assigned" not in statuses:
            hint = await socket.receive_json_from(timeout=3)
            assert hint["ticket_id"] == ticket.id
            statuses.append(hint["status"])
        await socket.disconnect()

    run(scenario)


def test_a_socket_opened_while_the_layer_is_down_is_closed_and_the_page_keeps_polling(settings, ana) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1"]}}
    }

    async def scenario() -> None:
        # Generous: the refused Redis connection is retried briefly before the socket closes.
        connected, code = await connected_as(ana.user).connect(timeout=10)
        assert not connected and code == 1011

    run(scenario)


def test_a_burst_of_changes_reaches_a_screen_as_two_hints_the_last_one_the_latest(memory_layer) -> None:
    async def scenario() -> list[dict[str, Any]]:
        channel = await listening(memory_layer, SUPERVISORS_GROUP)
        for ticket_id in range(1, 51):  # e.g. 50 assignment batches in a few milliseconds
            await database_sync_to_async(push_ticket_change)(
                None, ticket_id=ticket_id, status="assigned", queue_id=7, agent_ids=[], kind="status"
            )
        return await drain(memory_layer, channel, wait=hint_interval(SUPERVISORS_GROUP) + 0.3)

    received = run(scenario)
    # The first at once, the rest merged into one trailing hint: none lost, none per batch.
    assert [hint["ticket_id"] for hint in received] == [1, 50]


def test_a_hint_to_hundreds_of_groups_at_once_reaches_every_one_through_redis(settings, redis_broker) -> None:
    """The layer's pool refuses a 101st connection in use (redis-py raises, it does not wait): a
    change seen by many shopper pages and queues at once must still reach every group."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # As in production: this process's sockets share one list, capped at `capacity`.
            "CONFIG": {"hosts": [redis_broker], "capacity": 2000},
        }
    }
    groups = [f"burst.{n}" for n in range(250)]

    async def scenario() -> int:
        layer = get_channel_layer()
        channels = [await listening(layer, group) for group in groups]
        send_hint(groups, {"type": HINT_TYPE, "ticket_id": 1, "status": "assigned", "queue_id": None, "kind": "test"})
        received = [await asyncio.wait_for(layer.receive(channel), 5) for channel in channels]
        return sum(hint["ticket_id"] == 1 for hint in received)

    assert run(scenario) == len(groups)


def test_a_queue_hears_of_a_steady_stream_of_changes_once_per_its_longer_interval(memory_layer, settings) -> None:
    """Its agents' pages re-read for a queue's hints at most once per CONSOLE_QUEUE_HINT_SECONDS:
    a hint per half second would cost every socket of the queue a message for nothing."""
    settings.CONSOLE_QUEUE_HINT_SECONDS = 8  # hints to a queue: at most one per 2 s per process
    assert hint_interval(queue_group(7)) == 2.0

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        queue_channel = await listening(memory_layer, queue_group(7))
        agent_channel = await listening(memory_layer, agent_group(41))
        for ticket_id in (1, 2, 3):  # one change every 0.6 s: each its own hint for the agent
            await database_sync_to_async(push_ticket_change)(
                None, ticket_id=ticket_id, status="assigned", queue_id=7, agent_ids=[41], kind="status"
            )
            await asyncio.sleep(0.6)
        return await drain(memory_layer, queue_channel, wait=2.3), await drain(memory_layer, agent_channel, wait=0.1)

    to_queue, to_agent = run(scenario)
    assert [hint["ticket_id"] for hint in to_queue] == [1, 3]  # the first at once, the latest trailing
    assert [hint["ticket_id"] for hint in to_agent] == [1, 2, 3]


def test_a_queue_hint_says_which_tickets_still_wait_and_which_left_the_line(memory_layer, settings) -> None:
    """A ticket queued and assigned within one interval reaches the queue's pages as "left":
    their pages skip the re-read for it (console.js), since no page could have shown it."""
    settings.CONSOLE_QUEUE_HINT_SECONDS = 4  # one hint per second per queue

    async def scenario() -> list[dict[str, Any]]:
        channel = await listening(memory_layer, queue_group(8))
        changes = [(11, "queued"), (12, "queued"), (11, "assigned"), (13, "queued"), (13, "assigned")]
        for ticket_id, status in changes:
            await database_sync_to_async(push_ticket_change)(
                None, ticket_id=ticket_id, status=status, queue_id=8, agent_ids=[], kind="status"
            )
        return await drain(memory_layer, channel, wait=1.3)

    first, trailing = run(scenario)
    assert (ids(first["queued"]), ids(first["left"])) == ([11], [])  # sent at once
    # The rest merged, each ticket where its last change left it: 12 waits, 11 and 13 are gone.
    assert (ids(trailing["queued"]), sorted(ids(trailing["left"]))) == ([12], [11, 13])
    assert "reread" not in trailing
    # Each with when its change was pushed: pages order hints of several processes by it.
    assert all(abs(at / 1000 - time.time()) < 60 for _, at in trailing["queued"] + trailing["left"])


def ids(pairs: list[list[int]]) -> list[int]:
    return [ticket for ticket, _ in pairs]


def test_a_batch_names_each_tickets_own_status_and_other_changes_ask_for_a_read(memory_layer) -> None:
    async def scenario() -> list[dict[str, Any]]:
        channel = await listening(memory_layer, queue_group(9))
        await database_sync_to_async(push_ticket_change)(
            None, ticket_id=21, status="assigned", queue_id=9, agent_ids=[5], kind="status",
            ticket_ids=[21, 22], ticket_statuses=["assigned", "queued"],
        )  # fmt: skip
        await database_sync_to_async(push_ticket_change)(
            None, ticket_id=23, status="due", queue_id=9, agent_ids=[], kind="callback_due"
        )
        return await drain(memory_layer, channel, wait=hint_interval(queue_group(9)) + 0.3)

    batch, callback = run(scenario)
    assert (ids(batch["queued"]), ids(batch["left"])) == ([22], [21])
    assert callback == {**callback, "reread": True} and "queued" not in callback


def test_a_socket_forwards_what_a_queue_hint_says_about_the_line(memory_layer, ana) -> None:
    jewelry = queue("jewelry")

    async def scenario() -> dict[str, Any]:
        socket = connected_as(ana.user)
        assert (await socket.connect())[0]
        await memory_layer.group_send(
            queue_group(jewelry.id),
            {"type": HINT_TYPE, "ticket_id": 1, "status": "queued", "queue_id": 1, "kind": "status",
             "scope": "queue", "queued": [[1, 5]], "left": [[2, 6]]},
        )  # fmt: skip
        hint = await socket.receive_json_from(timeout=3)
        await socket.disconnect()
        return hint

    hint = run(scenario)
    assert (hint["scope"], hint["queued"], hint["left"]) == ("queue", [[1, 5]], [[2, 6]])
