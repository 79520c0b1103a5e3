"""Reads for the console's sidebar views and its search: each a keyset-paginated list of tickets
the user may see, and cheap capped counts for the sidebar.

Every list is ordered on an indexed column pair ending in id (tickets.models names the indexes),
so any page, the first or the thousandth, is one short index range.
"""

import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.fields.array import ArrayContains  # type: ignore[attr-defined]  # not in django-stubs
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.keyset import KeysetPage, capped_count, keyset_page
from routing.selectors import agent_queue_ids, is_supervisor, tickets_readable_by
from teams.models import SpecialistQueue
from tickets.models import Shopper, Ticket, TicketStatus
from tickets.states import HOLDS_AGENT

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
# Sidebar counts stop here and show "99+": a count must never cost a scan of the whole table.
COUNT_CAP = 99
RESOLVED_DAYS = 7
SEARCH_MAX_LENGTH = 100
# A name, phone or email matching more shoppers than this is too vague to list all their tickets.
SHOPPER_MATCHES = 200
# Newest first, through ticket_shopper_created, ticket_order_number and the body's trigram index.
SEARCH_ORDER = ("-created_at", "-id")
_TICKET_NUMBER = re.compile(r"#?(\d{1,18})")


@dataclass(frozen=True)
class ViewSpec:
    slug: str
    title: str
    order: tuple[str, ...]
    queue: SpecialistQueue | None = None
    # Which time the list shows beside each row.
    shows: str = "created"


def _row_relations(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.select_related("queue", "category", "shopper", "assigned_agent__agent_profile")


def sidebar_views(user: User) -> list[ViewSpec]:
    """The views this user's sidebar lists, in order: their own work, then the queues."""
    views = [
        ViewSpec("mine", str(_("My open tickets")), ("-created_at", "-id")),
        ViewSpec("waiting-on-shopper", str(_("Waiting on shopper")), ("-created_at", "-id")),
        ViewSpec(
            "resolved",
            str(_("Resolved by me (7 days)")),
            ("-resolved_at", "-id"),
            shows="resolved",
        ),
    ]
    if is_supervisor(user):
        views += [
            ViewSpec("all", str(_("All queues: open")), ("-created_at", "-id")),
            ViewSpec("past-sla", str(_("Unassigned past SLA")), ("queued_at", "id"), shows="queued"),
        ]
    views += [
        ViewSpec(f"queue-{queue.id}", queue.label, ("-priority", "queued_at", "id"), queue=queue, shows="queued")
        for queue in _queues_of(user)
    ]
    return views


def _queues_of(user: User) -> list[SpecialistQueue]:
    queues = SpecialistQueue.objects.order_by("kind", "name")
    if not is_supervisor(user):
        queues = queues.filter(id__in=agent_queue_ids(user))
    return list(queues)


def view_named(user: User, slug: str) -> ViewSpec | None:
    return next((view for view in sidebar_views(user) if view.slug == slug), None)


def view_rows(user: User, view: ViewSpec) -> QuerySet[Ticket]:
    """The tickets of one view, unordered (keyset_page orders them). Each view is already within
    what the user may see: their own tickets, a queue sidebar_views offered them (one of theirs),
    or a supervisor's view; so no visibility filter is added (and re-read) per view."""
    visible = Ticket.objects.all()
    if view.slug == "mine":
        return visible.filter(assigned_agent=user, status__in=HOLDS_AGENT)
    if view.slug == "waiting-on-shopper":
        return visible.filter(assigned_agent=user, status=TicketStatus.WAITING_ON_SHOPPER)
    if view.slug == "resolved":
        since = timezone.now() - timedelta(days=RESOLVED_DAYS)
        # resolved_at stays on a closed ticket and is cleared by a reopen: "resolved, not reopened".
        return visible.filter(assigned_agent=user, resolved_at__gte=since)
    if view.slug == "all":
        return visible.filter(status__in=[TicketStatus.QUEUED, *HOLDS_AGENT])
    if view.slug == "past-sla":
        return visible.filter(status=TicketStatus.QUEUED, sla_breached=True)
    if view.queue is not None:
        return visible.filter(status=TicketStatus.QUEUED, queue=view.queue)
    return visible.none()


def view_page(user: User, view: ViewSpec, *, after: str = "", before: str = "") -> KeysetPage[Ticket]:
    return keyset_page(
        _row_relations(view_rows(user, view)), order=view.order, size=PAGE_SIZE, after=after, before=before
    )


@dataclass(frozen=True)
class SidebarEntry:
    view: ViewSpec
    count: int

    @property
    def count_label(self) -> str:
        return f"{COUNT_CAP}+" if self.count > COUNT_CAP else str(self.count)


SIDEBAR_KEY = "console:sidebar:{user_id}:{language}"


def sidebar(user: User) -> list[SidebarEntry]:
    """Every view with its count, counted now (a page load, right after the agent acted); kept
    for recent_sidebar."""
    entries = _count_sidebar(user)
    try:
        cache.set(_sidebar_key(user), (time.time(), entries), timeout=max(settings.CONSOLE_SIDEBAR_COUNTS_SECONDS, 1))
    except Exception:
        logger.warning("Could not keep the sidebar counts of user %s.", user.pk, exc_info=True)
    return entries


def recent_sidebar(user: User) -> list[SidebarEntry]:
    """The sidebar as counted at most CONSOLE_SIDEBAR_COUNTS_SECONDS ago, else counted now: the
    inbox's live re-read runs on every change an agent (or a supervisor: every change) hears
    about, and the counts must not cost their queries on each of them."""
    try:
        kept = cache.get(_sidebar_key(user))
    except Exception:
        logger.warning("Sidebar counts unreadable; counting again.", exc_info=True)
        kept = None
    if kept is not None:
        counted_at, entries = kept
        if 0 <= time.time() - counted_at < settings.CONSOLE_SIDEBAR_COUNTS_SECONDS:
            return list(entries)
    return sidebar(user)


def _sidebar_key(user: User) -> str:
    # The titles are in the interface language of the request that counted them.
    return SIDEBAR_KEY.format(user_id=user.pk, language=get_language())


def _count_sidebar(user: User) -> list[SidebarEntry]:
    """One capped count per personal view, one grouped count for all the queues' waiting lines
    (short by nature, read through ticket_waiting_line)."""
    views = sidebar_views(user)
    queue_views = [view for view in views if view.queue is not None]
    waiting_by_queue: dict[int, int] = {}
    if queue_views:
        waiting_by_queue = dict(
            Ticket.objects.filter(status=TicketStatus.QUEUED, queue_id__in=[v.queue.id for v in queue_views if v.queue])
            .values_list("queue_id")
            .annotate(n=Count("id"))
            .values_list("queue_id", "n")
        )
    entries = []
    for view in views:
        if view.queue is not None:
            count = waiting_by_queue.get(view.queue.id, 0)
        else:
            count = capped_count(view_rows(user, view), cap=COUNT_CAP)
        entries.append(SidebarEntry(view=view, count=count))
    return entries


# --- Search -------------------------------------------------------------------------------------


def search_rows(user: User, query: str) -> QuerySet[Ticket]:
    """Tickets the user may read that match `query`: by ticket number (#123), order number, the
    shopper's storefront id, name, phone or email (two characters or more), or the inquiry's text
    (Chinese or English, any length; case-insensitive). An agent also finds the tickets they once
    held (tickets_readable_by)."""
    query = query.strip()
    if not query:
        return Ticket.objects.none()
    matches = Q(order_number=query) | _text_contains("body", query)
    number = _TICKET_NUMBER.fullmatch(query)
    if number:
        matches |= Q(pk=int(number.group(1)))
    shopper_match = Q(external_id=query)
    if len(query) >= 2:
        shopper_match |= _text_contains("name", query) | _text_contains("phone", query) | _text_contains("email", query)
    shopper_ids = list(Shopper.objects.filter(shopper_match).values_list("id", flat=True)[:SHOPPER_MATCHES])
    if shopper_ids:
        matches |= Q(shopper_id__in=shopper_ids)
    return _row_relations(tickets_readable_by(user).filter(matches))


class SearchGrams(Func):
    """Every character and pair of neighbouring characters of a text, as the GIN indexes of
    migration tickets/0009_search_grams store them (SQL function cx_search_grams)."""

    function = "cx_search_grams"
    output_field = ArrayField(TextField())


# Terms this short have no trigram for pg_trgm to look up: the grams indexes serve them.
GRAMS_UP_TO = 2


def _text_contains(column: str, term: str) -> Q:
    """`column` icontains `term`. On PostgreSQL a term of one or two characters is looked up in
    the column's grams index (exact for such a term: it is one of the text's grams), and
    icontains rechecks it, so the rows are those of the plain condition; longer terms use the
    trigram index on the same UPPER(column)."""
    contains = Q(**{f"{column}__icontains": term})
    if len(term) > GRAMS_UP_TO or connection.vendor != "postgresql":
        return contains
    # The index narrows on the grams; a row read another way (walking the newest tickets) is
    # tested with the cheap LIKE first, and only the few that pass compute their grams.
    return contains & Q(ArrayContains(SearchGrams(Upper(column)), [Upper(Value(term))]))


def search_page(user: User, query: str, *, after: str = "", before: str = "") -> KeysetPage[Ticket]:
    return keyset_page(search_rows(user, query), order=SEARCH_ORDER, size=PAGE_SIZE, after=after, before=before)
