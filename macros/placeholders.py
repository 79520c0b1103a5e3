"""The placeholders a macro's text may hold, and how they are filled from a ticket.

Filling is plain text substitution: the result goes into a textarea and is stored as the
message body, and every page that shows it escapes it (no HTML is ever built here).
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
NAMES = ("shopper_name", "order_number", "agent_name", "queue_name")

# What stands in for a value the ticket does not have: visible, so the agent fills it in.
MISSING = {
    "zh": {"shopper_name": "亲", "order_number": "[订单号]", "agent_name": "客服", "queue_name": "[队列]"},
    "en": {
        "shopper_name": "there",
        "order_number": "[order number]",
        "agent_name": "your agent",
        "queue_name": "[queue]",
    },
}


@dataclass(frozen=True)
class TicketValues:
    language: str
    shopper_name: str
    order_number: str
    agent_name: str
    queue_name: str


def check_placeholders(text: str) -> None:
    """Refuse a text with a placeholder nobody fills (a typo would reach the shopper as is)."""
    unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in NAMES})
    if unknown:
        raise ValidationError(
            _("Unknown placeholder %(names)s; use %(known)s."),
            params={
                "names": ", ".join("{{" + name + "}}" for name in unknown),
                "known": ", ".join("{{" + name + "}}" for name in NAMES),
            },
            code="unknown_placeholder",
        )


def fill(text: str, values: TicketValues) -> str:
    missing = MISSING["zh" if values.language.startswith("zh") else "en"]

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in NAMES:
            return match.group(0)
        return getattr(values, name) or missing[name]

    return PLACEHOLDER.sub(value, text)
