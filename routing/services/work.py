"""What agents, supervisors and shoppers do to a ticket once it is routed.

Every function here is atomic, locks the ticket before any agent row (see assignment.py),
and triggers dispatch of the queues where capacity was freed or work was added.
"""

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override, pgettext

from classification.services import record_agent_category
from classification.signals import demands_a_person, text_signals
from core.errors import ConflictError
from core.events import Event, emit, emit_many
from routing.models import AssignmentReason, Offer, RoutingDecision
from routing.services.assignment import assign_locked, dispatch_queue, release_locked
from routing.services.intake import enqueue_dispatch, route_ticket
from routing.services.offer_holds import withdraw_offer_locked
from teams.events import agent_status_changed
from teams.models import AgentProfile, AgentStatus, Category, SpecialistQueue, localized_name
from teams.taxonomy import ESCALATION_QUEUE_SLUG
from tickets.attachments import PreparedImage, store_images
from tickets.domain_events import iso, ticket_event
from tickets.events import NOTE_KIND, notify_ticket_changed
from tickets.keep_open import reason_to_keep_open
from tickets.models import AuthorKind, CloseReason, Message, Ticket, TicketStatus
from tickets.services import set_status
from tickets.states import HOLDS_AGENT

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class RoutingError(ConflictError):
    """A request that cannot be carried out as asked (the API answers 409 with this message)."""


class InquiryKeptOpen(RoutingError):
    """The shopper may not withdraw the inquiry yet: work on it still needs a person (the message
    says which, in the shopper's words; tickets.keep_open)."""


def _lock(ticket_id: int) -> Ticket:
    ticket = (
        Ticket.objects.select_for_update(of=("self",)).select_related("queue", "category").filter(pk=ticket_id).first()
    )
    if ticket is None:
        raise Ticket.DoesNotExist(f"No ticket {ticket_id}")
    return ticket


def _lock_routed(ticket_id: int, *, action: str) -> Ticket:
    """Lock a ticket that routing has placed and that is not closed (what transfer, escalation and
    re-categorization need)."""
    ticket = _lock(ticket_id)
    if ticket.status == TicketStatus.RESOLVED:
        # Read-only until someone reopens it on purpose (reopen_ticket, a shopper's message).
        raise RoutingError(_REFUSED_RESOLVED[action])
    if ticket.status in (TicketStatus.CLOSED, TicketStatus.NEW):
        raise RoutingError(_REFUSED_NOT_ROUTED[action] % {"status": ticket.get_status_display()})
    return ticket


# Whole sentences per action, so each language words them its own way (console pages show them).
_REFUSED_RESOLVED = {
    "transferred": _("A resolved ticket cannot be transferred; reopen it first."),
    "escalated": _("A resolved ticket cannot be escalated; reopen it first."),
    "re-categorized": _("A resolved ticket cannot be re-categorized; reopen it first."),
}
_REFUSED_NOT_ROUTED = {
    "transferred": _("A ticket that is %(status)s cannot be transferred."),
    "escalated": _("A ticket that is %(status)s cannot be escalated."),
    "re-categorized": _("A ticket that is %(status)s cannot be re-categorized."),
}


def _emit_message_created(message: Message) -> None:
    """A public message (never an internal note), told in the writer's transaction (core.events)."""
    emit(
        "message.created",
        data={
            "ticket_id": message.ticket_id,
            "message_id": message.pk,
            "author_kind": message.author_kind,
            "author_id": message.author_id,
            "body": message.body,
            "created_at": message.created_at.isoformat(),
        },
        ticket_id=message.ticket_id,
    )


def _status_data(ticket: Ticket, *, agent_id: int | None) -> dict[str, object]:
    return {
        "ticket_id": ticket.pk,
        "status": ticket.status,
        "agent_id": agent_id,
        "queue": ticket.queue.slug if ticket.queue is not None else None,
    }


def _internal_note(ticket: Ticket, *, by: User, body: str) -> Message:
    return Message.objects.create(ticket=ticket, author_kind=AuthorKind.AGENT, author=by, body=body, is_internal=True)


def _requeue_locked(
    ticket: Ticket,
    *,
    queue: SpecialistQueue,
    front: bool,
    end_reason: str,
    event: str = "ticket.queued",
    **data: object,
) -> None:
    """Back in line in `queue`; `event` (ticket.queued unless the caller's action has its own:
    transferred, escalated) tells the outboxes, with the state after the move."""
    agent_user_id = release_locked(ticket=ticket, end_reason=end_reason)
    offered_to = withdraw_offer_locked(ticket)
    previous_queue = ticket.queue.slug if ticket.queue is not None else None
    changed = set_status(ticket, TicketStatus.QUEUED)
    ticket.assigned_agent = None
    if ticket.queue_id != queue.id:
        # The new queue's overflow clock starts now; queued_at keeps the ticket's place by age.
        ticket.queue_entered_at = timezone.now()
        changed.append("queue_entered_at")
    ticket.queue = queue
    if front:
        ticket.priority = Ticket.PRIORITY_TOP
    ticket.save(update_fields=[*changed, "assigned_agent", "queue", "priority"])
    emit_many(
        [ticket_event(event, ticket, reason=end_reason, from_queue=previous_queue, from_agent_id=agent_user_id, **data)]
    )
    enqueue_dispatch(queue)
    for freed in {agent_user_id, offered_to} - {None}:
        assert freed is not None  # noqa: S101  # narrows the type
        _dispatch_for_agent(freed)


def _dispatch_for_agent(user_id: int) -> None:
    """An agent has room: dispatch every queue they can serve."""
    queue_ids = set(
        SpecialistQueue.objects.filter(categories__skill_set__agent__user_id=user_id).values_list("id", flat=True)
    )
    queue_ids |= set(SpecialistQueue.objects.exclude(kind=SpecialistQueue.Kind.SPECIALIST).values_list("id", flat=True))
    for queue in SpecialistQueue.objects.filter(id__in=queue_ids):
        enqueue_dispatch(queue)


def _emit(event: Event) -> None:
    emit_many([event])


# The routing record of a handoff raised by reading the shopper's text (console.history_text).
READ_HANDOFF_REASON = "shopper's message needs a person; signals: {}"


def request_handoff(*, ticket_id: int, signals: Sequence[str] = ()) -> Ticket:
    """The shopper asks for a person: top of the queue now, and an agent at once if one is free.

    signals: the text signals that demanded the person when it was read from the shopper's words
    (empty: the shopper asked, e.g. the page's button); the record and the event say which.
    Records when it was asked and (on assignment) when a person got it. Idempotent.
    """
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        raise Ticket.DoesNotExist(f"No ticket {ticket_id}")
    if ticket.status == TicketStatus.NEW:
        route_ticket(ticket_id=ticket_id)  # do not wait for the intake worker
    with transaction.atomic():
        ticket = _lock(ticket_id)
        if ticket.status == TicketStatus.CLOSED:
            raise RoutingError(_("This inquiry is closed; please open a new one."))
        if ticket.status == TicketStatus.RESOLVED:
            # Asking for a person after the resolution reopens it: to the former agent when they
            # are online with room, else to the front of the queue (dispatched below).
            _reopen_locked(ticket)
        asked_now = ticket.handoff_requested_at is None or ticket.handoff_assigned_at is not None
        if asked_now:
            ticket.handoff_requested_at = timezone.now()
            ticket.handoff_assigned_at = None
        ticket.priority = Ticket.PRIORITY_TOP
        ticket.save(update_fields=["handoff_requested_at", "handoff_assigned_at", "priority", "updated_at"])
        if asked_now:
            _emit(
                ticket_event(
                    "ticket.handoff_requested",
                    ticket,
                    by="signals" if signals else "shopper",
                    requested_at=iso(ticket.handoff_requested_at),
                )
            )
        if ticket.status in HOLDS_AGENT:
            ticket.handoff_assigned_at = ticket.handoff_requested_at  # a person already has it
            ticket.save(update_fields=["handoff_assigned_at"])
            if asked_now:
                _emit(ticket_event("ticket.handoff_assigned", ticket, assigned_at=iso(ticket.handoff_assigned_at)))
        reason = READ_HANDOFF_REASON.format(", ".join(signals)) if signals else "shopper asked for a person"
        RoutingDecision.objects.create(
            ticket=ticket, kind=RoutingDecision.Kind.HANDOFF, queue=ticket.queue, reason=reason
        )
        queue_id = ticket.queue_id
    if ticket.status == TicketStatus.QUEUED and queue_id is not None:
        # Inline: a person within the request, not after a hop. The head of the line is this
        # ticket unless an older top-priority one waits; then the queue's dispatcher follows.
        dispatch_queue(queue_id=queue_id, limit=1)
        ticket.refresh_from_db()
        if (
            ticket.status == TicketStatus.QUEUED
            and ticket.queue is not None
            and not (ticket.queue.may_offer and ticket.offers.filter(state=Offer.State.PENDING).exists())
        ):
            RoutingDecision.objects.create(
                ticket=ticket,
                kind=RoutingDecision.Kind.NO_AGENT,
                queue=ticket.queue,
                reason="no eligible agent free: first in line",
            )
            enqueue_dispatch(ticket.queue)  # no transaction here: kicks at once
        return ticket
    ticket.refresh_from_db()
    return ticket


def transfer_ticket(
    *,
    ticket_id: int,
    by: User,
    note: str,
    to_queue: SpecialistQueue | None = None,
    to_agent: AgentProfile | None = None,
    by_supervisor: bool = False,
    override: bool = False,
) -> Ticket:
    """Move a ticket to another queue (back in line, by its priority) or straight to a named agent,
    keeping conversation and context; the note is stored as an internal note.

    A named agent must be online (not away), speak the ticket's language and hold a skill for its
    category; a supervisor may override the last three (override=True), which the decision records.
    A supervisor's move is recorded as such (AssignmentReason.SUPERVISOR).
    """
    if (to_queue is None) == (to_agent is None):
        raise RoutingError(_("Transfer to exactly one of: a queue or an agent."))
    if override and not by_supervisor:
        raise RoutingError(_("Only a supervisor can override an agent's eligibility."))
    started = time.perf_counter()
    with transaction.atomic():
        ticket = _lock_routed(ticket_id, action="transferred")
        _internal_note(ticket, by=by, body=f"Transfer: {note}")
        if to_queue is not None:
            _requeue_locked(
                ticket,
                queue=to_queue,
                front=False,
                end_reason="transferred to queue",
                event="ticket.transferred",
                to_queue=to_queue.slug,
                to_agent_id=None,
            )
            RoutingDecision.objects.create(
                ticket=ticket,
                kind=RoutingDecision.Kind.TRANSFER,
                queue=to_queue,
                reason=f"to queue {to_queue.slug}: {note}"[:300],
                latency_ms=(time.perf_counter() - started) * 1000,
            )
            return ticket
        assert to_agent is not None  # noqa: S101  # narrows the type: exactly one destination is checked above
        if to_agent.user_id == ticket.assigned_agent_id:
            raise RoutingError(_("The ticket is already with this agent."))
        problems = _ineligibility(ticket, to_agent)
        if problems and not override:
            raise RoutingError(
                _("%(agent)s: %(problems)s. A supervisor may override.")
                % {
                    "agent": to_agent,
                    "problems": pgettext("between reasons", "; ").join(str(problem) for problem in problems),
                }
            )
        if problems:
            RoutingDecision.objects.create(
                ticket=ticket,
                kind=RoutingDecision.Kind.TRANSFER,
                queue=ticket.queue,
                reason=f"supervisor {by} overrode: {to_agent} {_in_english(problems)}"[:300],
            )
        # Both agent rows in id order, as dispatch locks them: never one each way round.
        list(
            AgentProfile.objects.select_for_update()
            .filter(user_id__in=[u for u in (ticket.assigned_agent_id, to_agent.user_id) if u])
            .order_by("pk")
        )
        previous_queue = ticket.queue.slug if ticket.queue is not None else None
        offered_to = withdraw_offer_locked(ticket)
        previous = release_locked(ticket=ticket, end_reason="transferred to agent")
        # Between owners, through the state machine like every other move (stamps nothing new).
        set_status(ticket, TicketStatus.QUEUED)
        agent = (
            AgentProfile.objects.select_for_update()
            .filter(pk=to_agent.pk, active_ticket_count__lt=F("capacity"))
            .exclude(status=AgentStatus.OFFLINE)
            .first()
        )
        if agent is None:
            raise RoutingError(_("%(agent)s is offline or has no free capacity.") % {"agent": to_agent})
        assign_locked(
            ticket=ticket,
            agent=agent,
            reason=AssignmentReason.SUPERVISOR if by_supervisor else AssignmentReason.TRANSFER,
            started=started,
        )
        _emit(
            ticket_event(
                "ticket.transferred",
                ticket,
                reason="transferred to agent",
                from_queue=previous_queue,
                from_agent_id=previous,
                to_queue=None,
                to_agent_id=agent.user_id,
            )
        )
        for freed in {previous, offered_to} - {None, agent.user_id}:
            assert freed is not None  # noqa: S101  # narrows the type
            _dispatch_for_agent(freed)
    return ticket


def _ineligibility(ticket: Ticket, agent: AgentProfile) -> list["StrPromise"]:
    """Why this agent should not get this ticket by name (empty: nothing against it), in the
    reader's language when read (the decision's record keeps English: _in_english)."""
    problems = []
    if agent.status == AgentStatus.AWAY:
        problems.append(_("is away"))
    if ticket.language and ticket.language not in (agent.languages or []):
        problems.append(
            format_lazy(_("does not speak the shopper's language ({language})"), language=ticket.get_language_display())
        )
    if ticket.category_id is not None and not agent.skill_set.filter(category_id=ticket.category_id).exists():
        category = ticket.category
        name = lazy(localized_name, str)(category.name_en, category.name_zh) if category else _("its category")
        problems.append(format_lazy(_("holds no skill for {category}"), category=name))
    return problems


def _in_english(problems: Sequence["StrPromise"]) -> str:
    with override("en"):
        return "; ".join(str(problem) for problem in problems)


def escalate_ticket(*, ticket_id: int, by: User, note: str) -> Ticket:
    """Send a ticket to the supervisors' queue, first in line, with the agent's note."""
    supervisors, _created = SpecialistQueue.objects.get_or_create(
        slug=ESCALATION_QUEUE_SLUG,
        defaults={"name": "Supervisors", "name_zh": "主管（升级）", "kind": SpecialistQueue.Kind.ESCALATION},
    )
    with transaction.atomic():
        ticket = _lock_routed(ticket_id, action="escalated")
        _internal_note(ticket, by=by, body=f"Escalation: {note}")
        _requeue_locked(ticket, queue=supervisors, front=True, end_reason="escalated", event="ticket.escalated")
        RoutingDecision.objects.create(
            ticket=ticket, kind=RoutingDecision.Kind.ESCALATE, queue=supervisors, reason=note[:300]
        )
    return ticket


def reply_to_shopper(*, ticket_id: int, by: User, body: str, photos: Sequence[PreparedImage] = ()) -> Message:
    """An agent answers the shopper: stored (with any photos, checked beforehand by
    tickets.attachments.prepare_images), first response stamped, ticket waits on the shopper."""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        if ticket.status not in HOLDS_AGENT:
            raise RoutingError(_("Only a ticket assigned to an agent can be answered."))
        message = Message.objects.create(ticket=ticket, author_kind=AuthorKind.AGENT, author=by, body=body)
        store_images(message=message, images=photos)
        # A follow-up reply while already waiting on the shopper changes no status.
        changed = (
            []
            if ticket.status == TicketStatus.WAITING_ON_SHOPPER
            else set_status(ticket, TicketStatus.WAITING_ON_SHOPPER)
        )
        if ticket.first_response_at is None:
            ticket.first_response_at = message.created_at
            changed.append("first_response_at")
        if changed:
            ticket.save(update_fields=changed)
        notify_ticket_changed(ticket, kind="message")
        _emit_message_created(message)
    return message


def add_internal_note(*, ticket_id: int, by: User, body: str) -> Message:
    """An agent's or supervisor's internal note. A resolved or closed ticket is read-only: a
    follow-up after resolution starts with Reopen, so the note never sits unseen on finished work.
    (The system's own notes, e.g. after a low rating, are written by their services, not here.)"""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        if ticket.status == TicketStatus.RESOLVED:
            raise RoutingError(_("A resolved ticket takes no notes; reopen it first."))
        if ticket.status == TicketStatus.CLOSED:
            raise RoutingError(_("A closed ticket takes no notes."))
        note = _internal_note(ticket, by=by, body=body)
        notify_ticket_changed(ticket, kind=NOTE_KIND)
        return note


def resolve_ticket(*, ticket_id: int, by: User | None) -> Ticket:
    """Resolve: the agent's slot is freed and their queues are dispatched (the next ticket is pulled)."""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        if ticket.status not in HOLDS_AGENT:
            raise RoutingError(
                _("A ticket that is %(status)s cannot be resolved.") % {"status": ticket.get_status_display()}
            )
        agent_user_id = release_locked(ticket=ticket, end_reason="resolved")
        changed = set_status(ticket, TicketStatus.RESOLVED)
        ticket.save(update_fields=changed)
        emit(
            "ticket.resolved",
            data={
                **_status_data(ticket, agent_id=agent_user_id or ticket.assigned_agent_id),
                "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
            },
            ticket_id=ticket.pk,
        )
        if agent_user_id is not None:
            _dispatch_for_agent(agent_user_id)
    return ticket


def add_shopper_message(
    *, ticket_id: int, body: str, photos: Sequence[PreparedImage] = (), read_for_a_person: bool = True
) -> Message:
    """A shopper writes on their ticket (with any photos, checked beforehand by
    tickets.attachments.prepare_images). A resolved ticket reopens: to its former agent when
    they are online with room, otherwise to the front of its queue. A message asking for a person
    on a ticket no person holds yet is a handoff, as it is at intake (read_for_a_person=False: the
    caller reads the text itself)."""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        if ticket.status == TicketStatus.CLOSED:
            raise RoutingError(_("This inquiry is closed; please open a new one."))
        signals = (
            text_signals(body) if read_for_a_person and ticket.status in (TicketStatus.NEW, TicketStatus.QUEUED) else []
        )
        wants_a_person = demands_a_person(signals)
        message = Message.objects.create(ticket=ticket, author_kind=AuthorKind.SHOPPER, body=body)
        store_images(message=message, images=photos)
        notify_ticket_changed(ticket, kind="message")
        _emit_message_created(message)
        if ticket.status == TicketStatus.WAITING_ON_SHOPPER:
            if _agent_is_online(ticket.assigned_agent_id):
                ticket.save(update_fields=set_status(ticket, TicketStatus.ASSIGNED))
            elif ticket.queue is not None:
                # Never wait on an absent agent: the answer goes to whoever is there, first in line.
                _requeue_locked(ticket, queue=ticket.queue, front=True, end_reason="shopper wrote; agent absent")
                RoutingDecision.objects.create(
                    ticket=ticket,
                    kind=RoutingDecision.Kind.REQUEUE,
                    queue=ticket.queue,
                    reason="shopper wrote back; their agent is not online",
                )
            else:
                ticket.save(update_fields=set_status(ticket, TicketStatus.ASSIGNED))
        elif ticket.status == TicketStatus.RESOLVED:
            _reopen_locked(ticket)
    if wants_a_person:
        request_handoff(ticket_id=ticket_id, signals=signals)
    return message


def _agent_is_online(user_id: int | None) -> bool:
    if user_id is None:
        return False
    return AgentProfile.objects.filter(user_id=user_id, status=AgentStatus.ONLINE).exists()


def reopen_ticket(*, ticket_id: int, by: User) -> Ticket:
    """An agent reopens a resolved ticket on purpose: back to them when online with room, else to
    the front of its queue. Resolved tickets change by no other agent action."""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        if ticket.status != TicketStatus.RESOLVED:
            raise RoutingError(
                _("Only a resolved ticket can be reopened; this one is %(status)s.")
                % {"status": ticket.get_status_display()}
            )
        _internal_note(ticket, by=by, body="Reopened")
        _reopen_locked(ticket, prefer_user_id=by.pk)
        notify_ticket_changed(ticket, kind="status")
    return ticket


def _reopen_locked(ticket: Ticket, *, prefer_user_id: int | None = None) -> None:
    """Every way back from resolved (a shopper's message, a handoff, an agent's reopen) comes
    here, and each tells "ticket.reopened" (the shopper is notified; webhooks hear it)."""
    _place_reopened_locked(ticket, prefer_user_id=prefer_user_id)
    emit(
        "ticket.reopened",
        data={
            **_status_data(ticket, agent_id=ticket.assigned_agent_id),
            "reopened_at": timezone.now().isoformat(),
        },
        ticket_id=ticket.pk,
    )


def _place_reopened_locked(ticket: Ticket, *, prefer_user_id: int | None) -> None:
    former = prefer_user_id or ticket.assigned_agent_id
    agent = (
        AgentProfile.objects.select_for_update()
        .filter(user_id=former, status=AgentStatus.ONLINE, active_ticket_count__lt=F("capacity"))
        .first()
        if former
        else None
    )
    if agent is not None:
        # The batch write of an assignment leaves resolved_at alone; a reopened ticket is not resolved.
        Ticket.objects.filter(pk=ticket.pk).update(resolved_at=None)
        ticket.resolved_at = None
        assign_locked(ticket=ticket, agent=agent, reason=AssignmentReason.REOPEN)
        return
    changed = set_status(ticket, TicketStatus.QUEUED)
    ticket.priority = Ticket.PRIORITY_TOP
    ticket.assigned_agent = None
    ticket.save(update_fields=[*changed, "priority", "assigned_agent"])
    RoutingDecision.objects.create(
        ticket=ticket,
        kind=RoutingDecision.Kind.REQUEUE,
        queue=ticket.queue,
        reason="reopened; former agent unavailable",
    )
    if ticket.queue is not None:
        enqueue_dispatch(ticket.queue)


def recategorize_ticket(*, ticket_id: int, category: Category, by: User) -> Ticket:
    """An agent sets the category: a training label is stored; when the category's queue differs,
    the ticket is re-routed there (back in line, keeping its priority)."""
    with transaction.atomic():
        ticket = _lock_routed(ticket_id, action="re-categorized")
        record_agent_category(ticket=ticket, category=category, by=by)
        ticket.category = category
        ticket.needs_category = False
        ticket.save(update_fields=["category", "needs_category", "updated_at"])
        _emit(
            ticket_event(
                "ticket.classified",
                ticket,
                category=category.slug,
                method="agent",
                confidence=1.0,
                needs_category=False,
                intent=ticket.intent,
                signals=list(ticket.signals or []),
            )
        )
        notify_ticket_changed(ticket, kind="category")
        new_queue = category.queue
        if new_queue is not None and new_queue.id != ticket.queue_id:
            _requeue_locked(ticket, queue=new_queue, front=False, end_reason="re-categorized")
            RoutingDecision.objects.create(
                ticket=ticket,
                kind=RoutingDecision.Kind.ROUTE,
                queue=new_queue,
                reason=f"re-categorized as {category.slug} by {by}",
            )
    return ticket


def set_agent_status(
    *, agent: AgentProfile, status: str, by_presence: bool = False, keep_missed_streak: bool = False
) -> AgentProfile:
    """Away or offline stops new assignments at once, and withdraws the offers waiting for the
    agent's answer (their tickets go to the next agent). Going offline returns every ticket waiting
    on the agent (status assigned: unanswered, or the shopper wrote last) to the front of its
    queue; tickets waiting on the shopper stay theirs until the shopper writes (add_shopper_message
    then sends it to the front of the queue). Coming online pulls waiting work. A person's choice
    clears the missed-offer streak (the offer sweep keeps it: the dashboard shows why)."""
    if status not in AgentStatus.values:
        raise RoutingError(_("Unknown status %(status)s.") % {"status": repr(status)})
    with transaction.atomic():
        offered: list[int] = []
        if status != AgentStatus.ONLINE:
            # Tickets before the agent row: the house lock order.
            offered = list(
                Ticket.objects.select_for_update(of=("self",))
                .filter(offers__agent_id=agent.user_id, offers__state=Offer.State.PENDING)
                .order_by("id")
                .values_list("id", flat=True)
            )
        unanswered: list[int] = []
        if status == AgentStatus.OFFLINE:
            # Tickets before the agent row: the house lock order.
            unanswered = list(
                Ticket.objects.select_for_update(of=("self",))
                .filter(assigned_agent_id=agent.user_id, status=TicketStatus.ASSIGNED)
                .order_by("id")
                .values_list("id", flat=True)
            )
        locked = AgentProfile.objects.select_for_update().get(pk=agent.pk)
        reset_streak = not keep_missed_streak and not by_presence and locked.missed_offer_streak > 0
        if locked.status != status or locked.status_set_by_presence != by_presence or reset_streak:
            if locked.status != status:
                locked.status_since = timezone.now()
            locked.status = status
            # A person's choice (the agent's, a supervisor's) clears the presence mark.
            locked.status_set_by_presence = by_presence
            if reset_streak:
                locked.missed_offer_streak = 0
            locked.save(update_fields=["status", "status_since", "status_set_by_presence", "missed_offer_streak"])
            # Every page of the agent shows their status (another tab, the dashboard's own panel).
            user_id, new_status = locked.user_id, status
            transaction.on_commit(
                lambda: agent_status_changed.send(sender=AgentProfile, agent_user_id=user_id, status=new_status),
                robust=True,
            )
        for ticket_id in offered:
            ticket = Ticket.objects.select_related("queue").get(pk=ticket_id)
            if withdraw_offer_locked(ticket) is not None and ticket.queue is not None:
                enqueue_dispatch(ticket.queue)
        for ticket_id in unanswered:
            ticket = Ticket.objects.select_related("queue").get(pk=ticket_id)
            queue = ticket.queue
            if queue is None:
                continue
            _requeue_locked(ticket, queue=queue, front=True, end_reason="agent went offline")
            RoutingDecision.objects.create(
                ticket=ticket, kind=RoutingDecision.Kind.REQUEUE, queue=queue, reason="agent went offline"
            )
        if status == AgentStatus.ONLINE:
            _dispatch_for_agent(agent.user_id)
    agent.refresh_from_db()
    return agent


def cancel_inquiry(*, ticket_id: int) -> Ticket:
    """The shopper withdraws their inquiry (tracking token checked by the caller).

    Before any assignment (new or queued, never held by an agent) the ticket is closed as
    "abandoned" — the contact-center meaning the dashboard counts. A ticket that was assigned once
    and is back in line (its agent went offline, a transfer) is closed as "cancelled": the shopper
    gave up, but not before anyone took it. While an agent holds it, or once it is resolved, the
    shopper talks to the agent instead: RoutingError (the API answers 409). While work on it
    still needs a person (an after-sales request waiting for a specialist's decision:
    tickets.keep_open), it stays open in its queue: InquiryKeptOpen (409), whose message tells the
    shopper why.

    Atomic; idempotent (cancelling a withdrawn inquiry again returns it unchanged).
    """
    with transaction.atomic():
        ticket = _lock(ticket_id)
        if ticket.status == TicketStatus.CLOSED:
            if ticket.close_reason in (CloseReason.ABANDONED, CloseReason.CANCELLED):
                return ticket
            raise RoutingError(_("This inquiry is already closed."))
        if ticket.status not in (TicketStatus.NEW, TicketStatus.QUEUED):
            raise RoutingError(
                _("An agent is already handling this inquiry; write to them, or let them know it is settled.")
            )
        # Asked under the ticket's row lock: a request opened meanwhile locks the ticket too, so it
        # is either seen here or finds the ticket closed and is refused.
        kept_open = reason_to_keep_open(ticket.pk)
        if kept_open:
            raise InquiryKeptOpen(kept_open)
        reason = CloseReason.ABANDONED if ticket.first_assigned_at is None else CloseReason.CANCELLED
        offered_to = withdraw_offer_locked(ticket)
        if offered_to is not None:
            _dispatch_for_agent(offered_to)
        changed = set_status(ticket, TicketStatus.CLOSED)
        ticket.close_reason = reason
        ticket.save(update_fields=[*changed, "close_reason"])
        _emit(ticket_event("ticket.closed", ticket, close_reason=reason, closed_at=iso(ticket.closed_at)))
    return ticket


AUTO_CLOSE_BATCH = 500


def close_resolved_tickets(*, older_than_days: int | None = None, batch_size: int = AUTO_CLOSE_BATCH) -> int:
    """Close tickets resolved more than AUTO_CLOSE_RESOLVED_DAYS ago (reason "resolved"): a shopper's
    message then opens a new inquiry instead of reopening an old one. One capped batch, locked with
    SKIP LOCKED (a reopen racing it wins or waits), so two runs at once close each ticket once.
    Returns how many it closed; the periodic task runs again while batches come back full."""
    days = settings.AUTO_CLOSE_RESOLVED_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    with transaction.atomic():
        tickets = list(
            Ticket.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=TicketStatus.RESOLVED, resolved_at__lt=cutoff)
            .order_by("resolved_at")[:batch_size]
        )
        for ticket in tickets:
            changed = set_status(ticket, TicketStatus.CLOSED)
            ticket.close_reason = CloseReason.RESOLVED
            ticket.save(update_fields=[*changed, "close_reason"])
        emit_many(
            [ticket_event("ticket.closed", t, close_reason=t.close_reason, closed_at=iso(t.closed_at)) for t in tickets]
        )
    return len(tickets)
