"""Reads for routing."""

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from routing.models import Assignment
from teams.models import SpecialistQueue
from tickets.models import Ticket, TicketStatus


def celery_queue_names() -> list[str]:
    """Every Celery queue a worker serving all of the product must consume."""
    fixed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    fixed.add(settings.CELERY_TASK_DEFAULT_QUEUE)
    specialist = [queue.celery_queue for queue in SpecialistQueue.objects.order_by("slug")]
    return sorted(fixed) + specialist


def is_supervisor(user: User) -> bool:
    return user.has_perm("teams.supervise_queues")


def agent_queue_ids(user: User) -> set[int]:
    """The queues whose waiting tickets an agent may see: their skills' queues and triage."""
    ids = set(SpecialistQueue.objects.filter(categories__skill_set__agent__user=user).values_list("id", flat=True))
    ids |= set(SpecialistQueue.objects.filter(kind=SpecialistQueue.Kind.TRIAGE).values_list("id", flat=True))
    return ids


def tickets_visible_to(user: User) -> QuerySet[Ticket]:
    """Supervisors see every ticket; an agent sees their own and those waiting in their queues."""
    tickets = Ticket.objects.select_related("queue", "category", "shopper", "assigned_agent")
    if is_supervisor(user):
        return tickets
    return tickets.filter(Q(assigned_agent=user) | Q(status=TicketStatus.QUEUED, queue_id__in=agent_queue_ids(user)))


def tickets_readable_by(user: User) -> QuerySet[Ticket]:
    """What the user may open to read: what they may see (tickets_visible_to), and for an agent
    also every ticket they once held that has since moved on (transferred, reassigned, returned to
    its queue). Reading is all: actions still ask tickets_visible_to and may_work."""
    if is_supervisor(user):
        return tickets_visible_to(user)
    worked_on = Assignment.objects.filter(agent=user).values("ticket_id")
    tickets = Ticket.objects.select_related("queue", "category", "shopper", "assigned_agent")
    return tickets.filter(
        Q(assigned_agent=user) | Q(status=TicketStatus.QUEUED, queue_id__in=agent_queue_ids(user)) | Q(pk__in=worked_on)
    )
