"""Routing-history reasons in the interface language.

Routing stores its reasons as plain English (they are also log lines and API fields); the
console reads them back through these patterns and says them in the agent's language, with
category slugs shown as category names. A reason no pattern knows is shown as stored.
"""

import re
from collections.abc import Callable

from django.utils.translation import gettext as _

from teams.models import SpecialistQueue
from teams.selectors import categories_by_slug

Render = Callable[[re.Match[str]], str]


def _category(slug: str) -> str:
    from console.templatetags.console import category_name

    category = categories_by_slug().get(slug)
    return category_name(category) if category is not None else slug


def _queue(slug: str) -> str:
    queue = SpecialistQueue.objects.filter(slug=slug).first()
    return str(queue.label) if queue is not None else slug


def _signals(codes: str) -> str:
    from console.templatetags.console import SIGNALS

    return "、".join(str(SIGNALS.get(code.strip(), (code.strip(), ""))[0]) for code in codes.split(","))


def _method(name: str) -> str:
    return {"order": _("the order"), "model": _("the text model"), "agent": _("an agent")}.get(name, name)


def _classified(match: re.Match[str]) -> str:
    text = _("%(method)s says %(category)s (%(confidence)s)") % {
        "method": _method(match["method"]),
        "category": _category(match["category"]),
        "confidence": match["confidence"],
    }
    if match["unsure"]:
        text += " — " + _("unsure, to triage")
    if match["signals"]:
        text += _("; signals: %(signals)s") % {"signals": _signals(match["signals"])}
    return text


FIXED: dict[str, Callable[[], str]] = {
    "shopper asked for a person": lambda: _("shopper asked for a person"),
    "no eligible agent free: first in line": lambda: _("no eligible agent free: first in line"),
    "agent went offline": lambda: _("agent went offline"),
    "shopper wrote back; their agent is not online": lambda: _("shopper wrote back; their agent is not online"),
    "reopened; former agent unavailable": lambda: _("reopened; former agent unavailable"),
    "resolved": lambda: _("resolved"),
    "transferred to queue": lambda: _("transferred to queue"),
    "transferred to agent": lambda: _("transferred to agent"),
    "escalated": lambda: _("escalated"),
    "shopper wrote; agent absent": lambda: _("shopper wrote; agent absent"),
    "re-categorized": lambda: _("re-categorized"),
}

PATTERNS: list[tuple[re.Pattern[str], Render]] = [
    (
        re.compile(
            r"^(?P<method>\w+) says (?P<category>[\w-]+) \((?P<confidence>[\d.]+)\)"
            r"(?P<unsure> — unsure, to triage)?(?:; signals: (?P<signals>.+))?$"
        ),
        _classified,
    ),
    (
        re.compile(r"^shopper's message needs a person; signals: (?P<signals>.+)$"),
        lambda m: _("the shopper's message needs a person; signals: %(signals)s") % {"signals": _signals(m["signals"])},
    ),
    (
        re.compile(r"^re-categorized as (?P<category>[\w-]+) by (?P<by>.+)$"),
        lambda m: _("re-categorized as %(category)s by %(by)s") % {"category": _category(m["category"]), "by": m["by"]},
    ),
    (
        re.compile(r"^to queue (?P<queue>[\w-]+): (?P<note>.*)$", re.S),
        lambda m: _("to queue %(queue)s: %(note)s") % {"queue": _queue(m["queue"]), "note": m["note"]},
    ),
]


def reason_text(reason: str) -> str:
    """A stored routing reason, said in the current language."""
    if reason in FIXED:
        return FIXED[reason]()
    for pattern, render in PATTERNS:
        match = pattern.match(reason)
        if match:
            return render(match)
    return reason
