"""Panels that apps above the console add to its pages.

The console knows slots, not the apps that fill them: "ticket_main" (the ticket page's main
column, above the conversation), "ticket" (its side column), "inbox". The ticket page's live
fragment renders both ticket slots with live=True. An app
registers a template and a context builder for a slot in its AppConfig.ready() (callbacks.apps
does), and the console's templates render whatever is registered with {% panels "slot" ... %}.
This keeps the dependency one way: console never imports the apps above it.

A ticket the agent once held and that moved on is shown read-only (context "read_only"): only
panels registered with read_only=True render there, with read_only=True in their context, and
they must offer no form or action (their endpoints refuse the former agent anyway).
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
    # Safe on a read-only page: it then shows what it knows and offers no form or action.
    read_only: bool = False


_panels: dict[str, list[Panel]] = {}


def register_panel(
    slot: str,
    template_name: str,
    build: Callable[..., dict[str, Any]],
    *,
    first: bool = False,
    read_only: bool = False,
) -> None:
    """Add a panel to a slot (at its top with first=True: what explains why the ticket exists;
    read_only=True: also on read-only pages, see above); registering the same template twice (a
    reloaded app) keeps one."""
    panels = [p for p in _panels.get(slot, []) if p.template_name != template_name]
    panel = Panel(template_name, build, read_only=read_only)
    _panels[slot] = [panel, *panels] if first else [*panels, panel]


def panels_for(slot: str, *, read_only: bool = False) -> list[Panel]:
    return [p for p in _panels.get(slot, []) if p.read_only or not read_only]


def render_panels(context: template.Context, slot: str, *args: Any, **kwargs: Any) -> SafeString:
    """Every panel of the slot, rendered in order (their templates escape their own values); on a
    read-only page only the read-only-safe ones, told so by read_only=True."""
    read_only = bool(context.get("read_only"))
    return mark_safe(  # noqa: S308  # each part is a rendered template, escaped by Django
        "".join(
            get_template(p.template_name).render({**p.build(context, *args, **kwargs), "read_only": read_only})
            for p in panels_for(slot, read_only=read_only)
        )
    )
