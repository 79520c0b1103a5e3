"""Every console page, rendered in Chinese, shows no interface string left in English.

The strings come from the source itself, not from the catalog: every gettext call in the apps'
Python files and every translate/blocktranslate in their templates (Django's own templatize reads
those). So a string added tomorrow and never put in the catalog is caught as soon as a console
page shows it: it comes out in English on the Chinese page, and this test names it.
"""

import ast
import re
from collections.abc import Iterator
from functools import partial
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone, translation
from django.utils.translation.template import templatize

from console import lists
from routing.models import Assignment, AssignmentReason
from satisfaction.models import Rating
from tests.factories import ShopperFactory, TicketFactory, category, queue
from tests.helpers import po_entries
from tickets.models import Message, Ticket, TicketStatus

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
APPS = ["console", "routing", "tickets", "teams", "classification", "callbacks", "satisfaction", "supervision"]
APPS += ["orders", "aftersales", "notifications", "webhooks", "shop", "core", "cxconsole"]
GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext", "ngettext_lazy"}
# The message text is this argument of the call (pgettext's first is the context).
TEXT_ARGUMENTS = {"pgettext": (1,), "pgettext_lazy": (1,), "ngettext": (0, 1), "ngettext_lazy": (0, 1)}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
_LITERAL = r"u?(?:'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")"
TEMPLATE_CALL = re.compile(rf"\b(gettext|pgettext|ngettext|npgettext)\(\s*({_LITERAL})(?:\s*,\s*({_LITERAL}))?")
# A literal part of a string with placeholders is looked for only when it is this long: short
# parts ("Ticket #") are too likely to appear inside other text.
MIN_FRAGMENT = 14


def _python_strings(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name not in GETTEXT_CALLS:
            continue
        for index in TEXT_ARGUMENTS.get(name, (0,)):
            argument = node.args[index] if index < len(node.args) else None
            if isinstance(argument, ast.Constant):
                value = argument.value
                if isinstance(value, str):
                    yield value


def _template_strings(path: Path) -> Iterator[str]:
    for call, first, second in TEMPLATE_CALL.findall(templatize(path.read_text(encoding="utf-8"))):
        text = second if call in ("pgettext",) and second else first
        yield ast.literal_eval(text)
        if call == "ngettext" and second:
            yield ast.literal_eval(second)


def interface_strings() -> set[str]:
    found: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*"):
            if "migrations" in path.parts or "management" in path.parts:
                continue
            if path.suffix == ".py":
                found.update(_python_strings(path))
            elif path.suffix in (".html", ".txt") and "templates" in path.parts:
                found.update(_template_strings(path))
    return {text for text in found if re.search(r"[A-Za-z]{3}", PLACEHOLDER.sub("", text))}


class _VisibleText(HTMLParser):
    """Text a person reads on the page: text nodes and the attributes shown or spoken."""

    SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "value"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        kinds = dict(attrs)
        for name, value in attrs:
            # A value is read only on a button-like input; an option's or a radio's is data.
            shown_value = tag == "input" and kinds.get("type") in ("submit", "button", "reset")
            if name in self.SHOWN_ATTRIBUTES and value and (name != "value" or shown_value):
                self.parts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.parts


def english_left(parts: list[str], strings: set[str], same_in_chinese: set[str]) -> set[str]:
    """The interface strings that appear untranslated in these parts of a page."""
    joined = "\n".join(parts)
    left = set()
    for text in strings - same_in_chinese:
        fragments = [f.strip() for f in PLACEHOLDER.split(text)]
        if len(fragments) == 1:
            if text in parts or (len(text) >= MIN_FRAGMENT and text in joined):
                left.add(text)
        elif any(len(f) >= MIN_FRAGMENT and f in joined for f in fragments):
            left.add(text)
    return left


def console_routes() -> Iterator[tuple[str, list[str]]]:
    """(route, its parameter names) of every URL under /console/."""

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> Iterator[tuple[str, list[str]]]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif route.startswith("console/"):
                yield route, list(pattern.pattern.converters)

    yield from walk(get_resolver().url_patterns, "")


@pytest.fixture(autouse=True)
def _language_restored() -> Iterator[None]:
    """Each Chinese response leaves its language active in this thread: put it back after."""
    with translation.override(translation.get_language()):
        yield


@pytest.fixture
def a_day_of_work(ana, bo, sam) -> list[Ticket]:
    """Tickets in every state a console page shows, one of them rated, one transferred away."""
    shopper = ShopperFactory.create(external_id="u-zh-1", name="王女士", phone="+8613800138000")
    jewelry = queue("jewelry")
    common = {"shopper": shopper, "queue": jewelry, "category": category("jewelry"), "order_number": "SO-1"}
    now = timezone.now()
    tickets = [
        TicketFactory.create(status=TicketStatus.ASSIGNED, assigned_agent=ana.user, first_assigned_at=now, **common),
        TicketFactory.create(status=TicketStatus.WAITING_ON_SHOPPER, assigned_agent=ana.user, **common),
        TicketFactory.create(status=TicketStatus.QUEUED, queued_at=now, sla_breached=True, **common),
        TicketFactory.create(status=TicketStatus.RESOLVED, assigned_agent=ana.user, resolved_at=now, **common),
        TicketFactory.create(
            status=TicketStatus.CLOSED, assigned_agent=ana.user, resolved_at=now, closed_at=now, **common
        ),
        TicketFactory.create(status=TicketStatus.ASSIGNED, assigned_agent=bo.user, **common),
    ]
    for ticket in tickets:
        Message.objects.create(ticket=ticket, author_kind="shopper", body="戒指尺寸偏大")
        Message.objects.create(ticket=ticket, author_kind="agent", author=ana.user, body="好的", is_internal=True)
    Assignment.objects.create(ticket=tickets[-1], agent=ana.user, reason=AssignmentReason.ROUTING, ended_at=now)
    Rating.objects.create(
        ticket=tickets[3], resolved_at=now, score=2, queue=jewelry, agent=ana.user, needs_follow_up=True
    )
    return tickets


def test_every_console_page_in_chinese_shows_no_english_interface_string(signed_in, ana, sam, a_day_of_work) -> None:
    strings = interface_strings()
    catalog = po_entries(Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    same_in_chinese = {msgid for msgid, msgstr in catalog.items() if msgid == msgstr}
    values = {
        "ticket_id": [t.id for t in a_day_of_work],
        "slug": [view.slug for view in lists.sidebar_views(sam.user)],
        "agent_id": [ana.pk],
        "queue_id": [queue("jewelry").pk],
    }
    pages: dict[str, set[str]] = {}
    rendered = 0
    for who in (sam, ana):
        client = signed_in(who)
        urls = [("/console/search/?q=u-zh-1", "search")]
        for route, params in console_routes():
            if any(name not in values for name in params):
                continue  # a photo, a callback, a rating: POST actions or files, no page of their own
            combos = [{}] if not params else [{params[0]: v} for v in values[params[0]]]
            for combo in combos:
                url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", partial(_filled, combo), route)
                urls.append((url, route))
        urls.append(("/console/no-such-page/", "404"))
        for url, _route in urls:
            response = client.get(url, headers={"accept-language": "zh-hans"})
            if response.status_code not in (200, 400, 403, 404) or "text/html" not in response.get("Content-Type", ""):
                continue
            rendered += 1
            left = english_left(visible_text(response.content.decode()), strings, same_in_chinese)
            if left:
                pages[f"{who.user.username} {url}"] = left

    assert len(strings) > 300 and rendered > 30
    assert pages == {}, "English on Chinese pages (translate them in locale/zh_Hans):\n" + "\n".join(
        f"{page}: {sorted(left)}" for page, left in pages.items()
    )


def _filled(values: dict[str, object], match: re.Match[str]) -> str:
    return str(values[match.group(1)])
