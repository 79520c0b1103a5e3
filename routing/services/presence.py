"""Presence from the console: an agent whose consoles have all gone quiet stops getting work.

Every open console tab sends a heartbeat over its websocket (and the connect counts as one); any
tab refreshes the agent's `last_seen_at`, so several tabs are one presence. A periodic sweep sets
an Online agent Away once no console spoke for PRESENCE_AWAY_SECONDS, and Offline (their waiting
tickets return to the queues) after PRESENCE_OFFLINE_SECONDS. Such statuses are marked as set by
presence: the dashboard shows "away (no console)", and a console coming back restores Online.
Agents who never opened a console (API-driven) are left alone.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from routing.services.work import set_agent_status
from teams.models import AgentProfile, AgentStatus

PRESENCE_SWEEP_BATCH = 200


def record_consoles_seen(*, user_ids: Iterable[int], now: datetime | None = None) -> int:
    """The consoles of these users spoke (a socket process gathers its heartbeats for a few
    seconds: a thousand consoles are one statement, not fifty a second). Restores Online for those
    presence had set Away or Offline. Returns how many of them have an agent profile."""
    now = now or timezone.now()
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    # One UPDATE for the agents whose status is theirs (nearly all); the lookup below only when
    # some were not updated (presence had set them aside, or they have no agent profile).
    set_aside = Q(status_set_by_presence=True, status__in=[AgentStatus.AWAY, AgentStatus.OFFLINE])
    seen = AgentProfile.objects.filter(user_id__in=ids).exclude(set_aside).update(last_seen_at=now)
    if seen == len(ids):
        return seen
    for agent in AgentProfile.objects.filter(set_aside, user_id__in=ids):
        AgentProfile.objects.filter(pk=agent.pk).update(last_seen_at=now)
        set_agent_status(agent=agent, status=AgentStatus.ONLINE)
        seen += 1
    return seen


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
