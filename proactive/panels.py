"""The panel proactive adds to the console's ticket page (registered in proactive.apps): the anomaly
explained (what the rule saw, the threshold, any compensation) and the order's delivery timeline.
Not a live part: in the live fragment it renders nothing."""

from typing import Any

from django import template
from django.utils.dateparse import parse_datetime

from proactive.models import AnomalyKind, EventType, OrderState
from proactive.selectors import case_of_ticket, timeline, tracked_order


def _at(value: object) -> object:
    return parse_datetime(value) if isinstance(value, str) else None


def ticket_panel(context: template.Context, ticket: Any, live: bool = False) -> dict[str, Any]:
    if live:
        return {"show": False}
    case = case_of_ticket(ticket.id)
    client_id = case.client_id if case is not None else ticket.client_id
    order_number = case.order_number if case is not None else ticket.order_number
    if not order_number or client_id is None:
        return {"show": False}
    order = tracked_order(client_id=client_id, order_number=order_number)
    if case is None and order is None:
        return {"show": False}
    facts = case.facts if case is not None else {}
    events = timeline(client_id=client_id, order_number=order_number)
    return {
        "show": True,
        "case": case,
        "kind_label": AnomalyKind(case.kind).label if case is not None else "",
        "facts": facts,
        "moved_at": _at(facts.get("moved_at")),
        "promised_at": _at(facts.get("promised_at")),
        "cold_at": _at(facts.get("cold_chain_alert_at")),
        "order": order,
        "state_label": OrderState(order.state).label if order is not None else "",
        "order_number": order_number,
        "events": [
            {
                "at": e.occurred_at,
                "label": EventType(e.type).label if e.type in EventType.values else e.type,
                "type": e.type.replace(".", "-").replace("_", "-"),
                "place": e.data.get("place", ""),
                "status": e.data.get("status", ""),
                "detail": e.data.get("reason") or e.data.get("detail") or e.data.get("carrier") or "",
            }
            for e in events
        ],
        "K": AnomalyKind,
    }
