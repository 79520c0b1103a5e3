"""The shopper page's websocket: hints for one inquiry, to a browser whose session was granted it."""

from typing import Any

from channels.db import database_sync_to_async

from console.consumers import CLOSE_FORBIDDEN, ConsoleConsumer
from shop.access import granted_ids
from shop.push import shopper_group


class ShopperConsumer(ConsoleConsumer):
    """The console's socket (hints only, closed quietly when the layer fails), joined to the
    inquiry's group instead of an agent's groups."""

    async def connect(self) -> None:
        self.live_groups = []
        ticket_id = int(self.scope["url_route"]["kwargs"]["ticket_id"])
        session = self.scope.get("session")
        allowed = session is not None and ticket_id in await database_sync_to_async(granted_ids)(session)
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        group = shopper_group(ticket_id)
        await self.channel_layer.group_add(group, self.channel_name)
        self.live_groups = [group]
        await self.accept()

    async def ticket_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": event.get("type"), "ticket_id": event.get("ticket_id")})
