"""Reads for the shopper page: only what the shopper may see, in words they understand."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, F, Prefetch
from django.utils import timezone

from callbacks.models import ACTIVE_STATUSES, Callback
from callbacks.selectors import callbacks_of_ticket
from satisfaction.models import Rating
from satisfaction.services import rating_window_open
from tickets.keep_open import reason_to_keep_open
from tickets.models import Attachment, CloseReason, Message, Ticket, TicketStatus

# The recent assignments a queue's expected wait is read from.
WAIT_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class ShopperState:
    """What the page says about the inquiry now. `phase` picks the sentence in the template."""

    phase: str  # received | waiting | with_person | your_reply | resolved | cancelled | closed
    wait_minutes: int | None = None
    agent_name: str = ""
    team_name: str = ""
    person_since: datetime | None = None
    handoff_requested_at: datetime | None = None


@dataclass(frozen=True)
class ShopperInquiry:
    ticket: Ticket
    messages: list[Message]
    state: ShopperState
    callback: Callback | None
    # What the shopper can do now.
    can_write: bool
    can_cancel: bool
    can_ask_for_person: bool
    can_book_callback: bool
    can_rate: bool = False
    # The shopper's rating of the latest resolution (None: not rated, or not resolved now).
    rating: Rating | None = None
    # Why a waiting inquiry cannot be withdrawn now (tickets.keep_open), in the shopper's words.
    kept_open: str = ""


def inquiry_for_shopper(ticket_id: int) -> ShopperInquiry | None:
    """The inquiry as its shopper sees it: public messages only (never internal notes), with
    their photos; None when there is no such ticket. The caller has checked the session's grant."""
    ticket = (
        Ticket.objects.select_related("queue", "category", "shopper", "assigned_agent__agent_profile")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        return None
    messages = list(
        Message.objects.filter(ticket=ticket, is_internal=False)
        .select_related("author__agent_profile")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    state = shopper_state(ticket)
    callback = callbacks_of_ticket(ticket.id).filter(status__in=ACTIVE_STATUSES).first()
    open_ = ticket.status != TicketStatus.CLOSED
    waiting = ticket.status in (TicketStatus.NEW, TicketStatus.QUEUED)
    kept_open = reason_to_keep_open(ticket.id) if waiting else ""
    rating = rating_of_latest_resolution(ticket)
    return ShopperInquiry(
        ticket=ticket,
        messages=messages,
        state=state,
        callback=callback,
        can_write=open_,
        can_cancel=waiting and not kept_open,
        # Until a person has it: the button stays while the inquiry waits (asking again is harmless).
        can_ask_for_person=ticket.status in (TicketStatus.NEW, TicketStatus.QUEUED),
        # A resolved inquiry takes no callback (writing again reopens it; then one can be booked).
        can_book_callback=open_
        and ticket.status != TicketStatus.RESOLVED
        and ticket.queue_id is not None
        and callback is None,
        # One rating per resolution: a reopened and re-resolved inquiry is asked again.
        can_rate=rating is None and rating_window_open(ticket),
        rating=rating,
        kept_open=kept_open,
    )


def rating_of_latest_resolution(ticket: Ticket) -> Rating | None:
    """The rating of the resolution the ticket shows now; None while it is not resolved (a
    reopened ticket's earlier rating belongs to an earlier resolution)."""
    if ticket.resolved_at is None:
        return None
    return Rating.objects.filter(ticket=ticket, resolved_at=ticket.resolved_at).first()


def agent_name(ticket: Ticket) -> str:
    user = ticket.assigned_agent
    if user is None:
        return ""
    profile = getattr(user, "agent_profile", None)
    return (profile.display_name if profile is not None and profile.display_name else "") or user.get_username()


def shopper_state(ticket: Ticket) -> ShopperState:
    team = ticket.queue.label if ticket.queue is not None else ""
    status = ticket.status
    if status == TicketStatus.NEW:
        return ShopperState(phase="received", handoff_requested_at=ticket.handoff_requested_at)
    if status == TicketStatus.QUEUED:
        return ShopperState(
            phase="waiting",
            wait_minutes=expected_wait_minutes(ticket),
            team_name=team,
            handoff_requested_at=ticket.handoff_requested_at,
        )
    if status in (TicketStatus.ASSIGNED, TicketStatus.WAITING_ON_SHOPPER):
        return ShopperState(
            phase="with_person" if status == TicketStatus.ASSIGNED else "your_reply",
            agent_name=agent_name(ticket),
            team_name=team,
            person_since=ticket.handoff_assigned_at or ticket.first_assigned_at,
            handoff_requested_at=ticket.handoff_requested_at,
        )
    if status == TicketStatus.RESOLVED:
        return ShopperState(phase="resolved", agent_name=agent_name(ticket), team_name=team)
    if ticket.close_reason in (CloseReason.ABANDONED, CloseReason.CANCELLED):
        return ShopperState(phase="cancelled")
    return ShopperState(phase="closed")


def expected_wait_minutes(ticket: Ticket, *, now: datetime | None = None) -> int:
    """About how long until a specialist takes it: the queue's average wait over the last hour's
    assignments (its service-level target when there were none), less what the shopper has
    waited already; at least a minute."""
    now = now or timezone.now()
    queue = ticket.queue
    target = timedelta(seconds=queue.service_level_seconds if queue is not None else 120)
    average = (
        Ticket.objects.filter(
            queue_id=ticket.queue_id,
            first_assigned_at__gte=now - WAIT_WINDOW,
            queued_at__isnull=False,
        )
        .annotate(wait=F("first_assigned_at") - F("queued_at"))
        .aggregate(average=Avg("wait"))["average"]
    )
    expected = average if isinstance(average, timedelta) else target
    waited = now - (ticket.queued_at or ticket.created_at)
    left = (expected - waited).total_seconds()
    return max(1, math.ceil(left / 60))


def public_attachment(ticket_id: int, attachment_id: int) -> Attachment | None:
    """A photo on a public message of this ticket (never one on an internal note)."""
    return Attachment.objects.filter(pk=attachment_id, message__ticket_id=ticket_id, message__is_internal=False).first()
