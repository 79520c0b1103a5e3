"""Supervisor actions. Each one is atomic and writes its audit row (SupervisorAction) in the same
transaction as the change: either both are committed or neither is. Routing rules stay in
routing.services (transfer, agent status, dispatch); these functions call them and record who did
what, to what, from which state to which, and why.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routing.services import RoutingError, enqueue_dispatch, set_agent_status, transfer_ticket
from satisfaction.models import Rating
from satisfaction.services import follow_up_low_rating
from supervision.models import QueueSample, SupervisorAction
from supervision.selectors import queue_health
from teams.models import AgentProfile, AgentStatus, SpecialistQueue
from teams.selectors import reset_config_cache
from teams.services import set_agent_skills
from tickets.models import Ticket, TicketStatus

REASSIGNABLE = (TicketStatus.QUEUED, TicketStatus.ASSIGNED, TicketStatus.WAITING_ON_SHOPPER)
# Samples older than this are pruned by the sampling task (the page shows the last hour).
SAMPLE_RETENTION = timedelta(days=2)
SAMPLE_PRUNE_BATCH = 5000


def _audit(
    *,
    actor: User,
    action: str,
    target_type: str,
    target_id: int,
    target_label: str,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str,
) -> SupervisorAction:
    return SupervisorAction.objects.create(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_label=target_label[:200],
        before=before,
        after=after,
        reason=reason,
    )


def _ticket_state(ticket: Ticket) -> dict[str, Any]:
    return {
        "status": ticket.status,
        "queue": ticket.queue.slug if ticket.queue else None,
        "agent": ticket.assigned_agent.username if ticket.assigned_agent else None,
    }


def reassign_ticket(
    *,
    actor: User,
    ticket_id: int,
    reason: str,
    to_queue: SpecialistQueue | None = None,
    to_agent: AgentProfile | None = None,
    override: bool = False,
) -> Ticket:
    """Move an open ticket to another queue (back in line by its priority) or straight to a named
    agent, through routing's transfer (the reason becomes its internal note), and audit it.
    override lets an agent who is away, speaks another language or lacks the skill take it
    (routing records the override).

    Atomic: a refused transfer (agent offline or full, ticket closed) raises RoutingError and
    leaves no trace. Not idempotent: a second call is a second move (or a refusal).
    """
    with transaction.atomic():
        # Lock the ticket first (the house lock order: tickets, then agents), so the "before" we
        # record is the state the transfer starts from, not one a concurrent sweep already changed.
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("queue", "assigned_agent")
            .filter(pk=ticket_id)
            .first()
        )
        if ticket is None:
            raise RoutingError(_("There is no ticket #%(id)s.") % {"id": ticket_id})
        if ticket.status not in REASSIGNABLE:
            raise RoutingError(
                _("Ticket #%(id)s is %(status)s; only open tickets can be reassigned.")
                % {"id": ticket_id, "status": ticket.get_status_display()}
            )
        before = _ticket_state(ticket)
        transfer_ticket(
            ticket_id=ticket_id,
            by=actor,
            note=reason,
            to_queue=to_queue,
            to_agent=to_agent,
            by_supervisor=True,
            override=override,
        )
        ticket = Ticket.objects.select_related("queue", "assigned_agent").get(pk=ticket_id)
        _audit(
            actor=actor,
            action=SupervisorAction.Kind.REASSIGN_TICKET,
            target_type="ticket",
            target_id=ticket.id,
            target_label=str(ticket),
            before=before,
            after=_ticket_state(ticket),
            reason=reason,
        )
    return ticket


def set_status_of_agent(*, actor: User, agent: AgentProfile, status: str, reason: str = "") -> AgentProfile:
    """Set another agent's status through routing (offline returns their unanswered tickets to
    the front of their queues; online pulls waiting work), and audit it.

    Atomic. Setting the status an agent already has changes nothing and records nothing.
    """
    if status not in AgentStatus.values:
        raise RoutingError(f"Unknown status {status!r}.")
    with transaction.atomic():
        # Read fresh, without a lock: routing locks the agent's tickets before the agent row, and
        # taking the row lock here first would invert that order.
        current = AgentProfile.objects.get(pk=agent.pk)
        before = {"status": current.status, "open_tickets": current.active_ticket_count}
        if before["status"] == status:
            return agent
        agent = set_agent_status(agent=agent, status=status)
        _audit(
            actor=actor,
            action=SupervisorAction.Kind.SET_AGENT_STATUS,
            target_type="agent",
            target_id=agent.id,
            target_label=str(agent),
            before=before,
            after={"status": agent.status, "open_tickets": agent.active_ticket_count},
            reason=reason,
        )
    return agent


def _agent_state(agent: AgentProfile) -> dict[str, Any]:
    skills = sorted(agent.skill_set.select_related("category"), key=lambda s: s.category.slug)
    return {
        "primary": [s.category.slug for s in skills if s.level == "primary"],
        "secondary": [s.category.slug for s in skills if s.level == "secondary"],
        "languages": sorted(agent.languages),
        "capacity": agent.capacity,
    }


def edit_agent(
    *,
    actor: User,
    agent: AgentProfile,
    primary: list[str],
    secondary: list[str],
    languages: list[str],
    capacity: int,
    reason: str = "",
) -> AgentProfile:
    """Replace an agent's skills and languages and set their capacity, and audit it.

    Capacity can never go below the tickets the agent holds (ValidationError on "capacity",
    checked under the agent's row lock so no assignment slips in between). When the change lets
    the agent take more (more capacity, new skills or languages) their queues are dispatched
    after commit, so waiting work is pulled at once. Atomic.
    """
    if capacity < 1:
        raise ValidationError({"capacity": "Capacity must be at least 1."})
    with transaction.atomic():
        # The agent row lock: assignment re-checks capacity under the same lock.
        locked = AgentProfile.objects.select_for_update().select_related("user").get(pk=agent.pk)
        if capacity < locked.active_ticket_count:
            raise ValidationError(
                {
                    "capacity": f"{locked} holds {locked.active_ticket_count} open tickets; "
                    f"capacity cannot go below that."
                }
            )
        before = _agent_state(locked)
        try:
            set_agent_skills(agent=locked, primary=primary, secondary=secondary)
        except ValueError as exc:
            raise ValidationError({"primary": str(exc)}) from exc
        locked.languages = sorted(set(languages))
        locked.capacity = capacity
        locked.save(update_fields=["languages", "capacity"])
        after = _agent_state(locked)
        _audit(
            actor=actor,
            action=SupervisorAction.Kind.EDIT_AGENT,
            target_type="agent",
            target_id=locked.id,
            target_label=str(locked),
            before=before,
            after=after,
            reason=reason,
        )
        if locked.status == AgentStatus.ONLINE and after != before:
            for queue in SpecialistQueue.objects.filter(
                Q(categories__skill_set__agent=locked) | ~Q(kind=SpecialistQueue.Kind.SPECIALIST)
            ).distinct():
                enqueue_dispatch(queue)
    return locked


def change_queue_targets(
    *,
    actor: User,
    queue: SpecialistQueue,
    service_level_seconds: int,
    service_level_target_percent: int,
    overflow_seconds: int,
    reason: str = "",
) -> SpecialistQueue:
    """Set a queue's service-level time and target share and its overflow time, and audit it.

    The next sweep applies the new times to waiting tickets (overflow, SLA flags); routing's
    per-process configuration cache picks them up within seconds. Atomic.
    """
    errors = {}
    if service_level_seconds < 1:
        errors["service_level_seconds"] = "Must be at least 1 second."
    if not 1 <= service_level_target_percent <= 100:
        errors["service_level_target_percent"] = "Must be between 1 and 100 %."
    if overflow_seconds < 1:
        errors["overflow_seconds"] = "Must be at least 1 second."
    if errors:
        raise ValidationError(errors)
    fields = ("service_level_seconds", "service_level_target_percent", "overflow_seconds")
    with transaction.atomic():
        locked = SpecialistQueue.objects.select_for_update().get(pk=queue.pk)
        before = {name: getattr(locked, name) for name in fields}
        locked.service_level_seconds = service_level_seconds
        locked.service_level_target_percent = service_level_target_percent
        locked.overflow_seconds = overflow_seconds
        locked.save(update_fields=list(fields))
        _audit(
            actor=actor,
            action=SupervisorAction.Kind.CHANGE_QUEUE_TARGETS,
            target_type="queue",
            target_id=locked.id,
            target_label=locked.name,
            before=before,
            after={name: getattr(locked, name) for name in fields},
            reason=reason,
        )
        transaction.on_commit(reset_config_cache)
    return locked


# --- Sparkline samples --------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleResult:
    minute: datetime
    stored: int
    pruned: int


def follow_up_rating(*, actor: User, rating_id: int, reason: str = "") -> Rating:
    """A supervisor has followed up a low rating (called the shopper, coached the agent): it leaves
    the dashboard's list, and the audit log says who did it. Atomic; a second follow-up of the same
    rating changes nothing and records nothing. Raises Rating.DoesNotExist or ConflictError."""
    with transaction.atomic():
        before = Rating.objects.filter(pk=rating_id).values_list("followed_up_at", flat=True).first()
        rating = follow_up_low_rating(rating_id=rating_id, by=actor)
        if before is None:
            _audit(
                actor=actor,
                action=SupervisorAction.Kind.FOLLOW_UP_RATING,
                target_type="ticket",
                target_id=rating.ticket_id,
                target_label=f"#{rating.ticket_id} · {rating.score}/5",
                before={"followed_up": False},
                after={"followed_up": True, "rating": rating.id},
                reason=reason,
            )
    return rating


def sample_queue_health(*, now: datetime | None = None) -> SampleResult:
    """Store one sample per queue for the current minute: waiting count and the trailing 30-minute
    service level. Idempotent per minute (unique (queue, minute); a second run stores nothing),
    safe when two run at once (ignore_conflicts), bounded (one health computation, one insert,
    one capped prune of samples older than SAMPLE_RETENTION)."""
    now = now or timezone.now()
    minute = now.replace(second=0, microsecond=0)
    samples = [
        QueueSample(
            queue_id=health.queue_id,
            minute=minute,
            waiting=health.waiting,
            service_level=health.last_30_minutes.service_level,
            taken_at=now,
        )
        for health in queue_health(now=now)
    ]
    existing = QueueSample.objects.filter(minute=minute).count()
    QueueSample.objects.bulk_create(samples, ignore_conflicts=True)
    stored = QueueSample.objects.filter(minute=minute).count() - existing
    old = list(
        QueueSample.objects.filter(minute__lt=minute - SAMPLE_RETENTION).values_list("id", flat=True)[
            :SAMPLE_PRUNE_BATCH
        ]
    )
    pruned, _by_model = QueueSample.objects.filter(id__in=old).delete()
    return SampleResult(minute=minute, stored=stored, pruned=pruned)
