"""The shopper's open page is woken for changes the shopper can see, never for internal notes
(a page that re-reads for nothing on every note would tell when agents talk about the shopper)."""

from typing import Any

import pytest
from channels.db import database_sync_to_async

from routing.services import add_internal_note, reply_to_shopper
from shop.push import shopper_group
from tests.helpers import drain, listening
from tests.helpers import run_async as run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_an_internal_note_does_not_wake_the_shoppers_page_but_a_reply_does(ana, inquiry, memory_layer: Any) -> None:
    ticket = inquiry("戒指的钻石松了")

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        channel = await listening(memory_layer, shopper_group(ticket.id))
        await drain(memory_layer, channel)  # the hints of intake and assignment
        await database_sync(lambda: add_internal_note(ticket_id=ticket.id, by=ana.user, body="VIP, 可以免运费"))
        after_note = await drain(memory_layer, channel)
        await database_sync(lambda: reply_to_shopper(ticket_id=ticket.id, by=ana.user, body="请寄回维修"))
        after_reply = await drain(memory_layer, channel)
        return after_note, after_reply

    after_note, after_reply = run(scenario)

    assert after_note == []
    assert after_reply and {h["ticket_id"] for h in after_reply} == {ticket.id}


async def database_sync(call: Any) -> Any:
    return await database_sync_to_async(call)()
