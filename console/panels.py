"""Panels that apps above the console add to its pages.

The console knows slots, not the apps that fill them: "ticket_main" (the ticket page's main
column, above the conversation), "ticket" (its side column), "inbox". The ticket page's live
fragment renders both ticket slots with live=True. An app
registers a template and a context builder for a slot in its AppConfig.ready() (callbacks.apps
does), and the console's templates render whatever is registered with {% panels "slot" ... %}.
This keeps the dependency one way: console never imports the apps above it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Panel:
    template_name: str
    build: Callable[..., dict[str, Any]]  # (page context, *args, **kwargs) -> the panel's context


_panels: dict[str, list[Panel]] = {}


def register_panel(slot: str, template_name: str, build: Callable[..., dict[str, Any]], *, first: bool = False) -> None:
    """Add a panel to a slot (at its top with first=True: what explains why the ticket exists);
    registering the same template twice (a reloaded app) keeps one."""
    panels = [p for p in _panels.get(slot, []) if p.template_name != template_name]
    panel = Panel(template_name, build)
    _panels[slot] = [panel, *panels] if first else [*panels, panel]


def panels_for(slot: str) -> list[Panel]:
    return list(_panels.get(slot, []))


def render_panels(context: template.Context, slot: str, *args: Any, **kwargs: Any) -> SafeString:
    """Every panel of the slot, rendered in order (their templates escape their own values)."""
    return mark_safe(  # noqa: S308  # each part is a rendered template, escaped by Django
        "".join(get_template(p.template_name).render(p.build(context, *args, **kwargs)) for p in panels_for(slot))
    )
