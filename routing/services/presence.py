"""Presence from the console: an agent whose consoles have all gone quiet stops getting work.

Every open console tab sends a heartbeat over its websocket (and the connect counts as one); any
tab refreshes the agent's `last_seen_at`, so several tabs are one presence. A periodic sweep sets
an Online agent Away once no console spoke for PRESENCE_AWAY_SECONDS, and Offline (their waiting
tickets return to the queues) after PRESENCE_OFFLINE_SECONDS. Such statuses are marked as set by
presence: the dashboard shows "away (no console)", and a console coming back restores Online.
Agents who never opened a console (API-driven) are left alone.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from routing.services.work import set_agent_status
from teams.models import AgentProfile, AgentStatus

PRESENCE_SWEEP_BATCH = 200


def record_console_seen(*, user_id: int, now: datetime | None = None) -> bool:
    """A console of this user spoke. Restores Online when presence (not a person) had set them
    Away or Offline. Returns False for users without an agent profile."""
    now = now or timezone.now()
    # The heartbeat of every open console lands here: one UPDATE for an agent whose status is
    # theirs (nearly always), the lookup below only for one that presence had set aside.
    set_aside = Q(status_set_by_presence=True, status__in=[AgentStatus.AWAY, AgentStatus.OFFLINE])
    if AgentProfile.objects.filter(user_id=user_id).exclude(set_aside).update(last_seen_at=now):
        return True
    if not AgentProfile.objects.filter(user_id=user_id).update(last_seen_at=now):
        return False
    agent = AgentProfile.objects.filter(set_aside, user_id=user_id).first()
    if agent is not None:
        set_agent_status(agent=agent, status=AgentStatus.ONLINE)
    return True


def sweep_absent_agents(*, now: datetime | None = None, batch_size: int = PRESENCE_SWEEP_BATCH) -> dict[str, int]:
    """Away after PRESENCE_AWAY_SECONDS without a console, Offline after PRESENCE_OFFLINE_SECONDS.
    Bounded; safe twice at once (set_agent_status locks the agent and is idempotent)."""
    now = now or timezone.now()
    away_before = now - timedelta(seconds=settings.PRESENCE_AWAY_SECONDS)
    offline_before = now - timedelta(seconds=settings.PRESENCE_OFFLINE_SECONDS)
    counts = {"away": 0, "offline": 0}
    gone = (
        AgentProfile.objects.filter(last_seen_at__lt=offline_before)
        .exclude(status=AgentStatus.OFFLINE)
        .order_by("last_seen_at")[:batch_size]
    )
    for agent in gone:
        set_agent_status(agent=agent, status=AgentStatus.OFFLINE, by_presence=True)
        counts["offline"] += 1
    quiet = AgentProfile.objects.filter(status=AgentStatus.ONLINE, last_seen_at__lt=away_before)
    for agent in quiet.order_by("last_seen_at")[:batch_size]:
        set_agent_status(agent=agent, status=AgentStatus.AWAY, by_presence=True)
        counts["away"] += 1
    return counts
