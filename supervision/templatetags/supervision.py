"""Formatting for the dashboard: durations, rates, ISO timestamps from the cached payload."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.forms import ATTENTION_REASON_LABELS
from teams.models import Language, localized_name

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """120.0 → "2m 0s"; 4000 → "1h 6m"; None → "–" (nothing to average)."""
    if seconds is None:
        return "–"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)dh %(m)dm") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)dm %(s)ds") % {"m": minutes, "s": secs}
    return _("%(s)ds") % {"s": secs}


@register.filter
def rate(value: float | None) -> str:
    """0.756 → "76%"; None (nothing in the window) → "–"."""
    return "–" if value is None else f"{value * 100:.0f}%"


@register.filter
def since(moment: str | datetime | None) -> str:
    """How long ago a time (ISO text from the cached payload, or a datetime) was, as a short duration."""
    if not moment:
        return ""
    at = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    return duration((timezone.now() - at).total_seconds())


@register.filter
def attention_reason(key: str) -> str:
    """Why an agent is on the dashboard's board, in the reader's language."""
    return str(ATTENTION_REASON_LABELS.get(key, ""))


@register.filter
def parse_iso(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


@register.filter
def queue_label(queue: dict) -> str:
    """A queue from the cached payload, named in the reader's language."""
    return localized_name(queue.get("name", ""), queue.get("name_zh", ""))


@register.filter
def language_names(codes: list[str] | None) -> str:
    """["zh", "en"] → "中文, English" (each language in its own name)."""
    names = dict(Language.choices)
    return ", ".join(str(names.get(code, code)) for code in codes or [])
