"""Reads on teams. Category and queue configuration changes rarely and is read on every
routed ticket, so it is cached per process for a few seconds (admin edits apply within that)."""

from typing import Any

from core.caching import ttl_cache
from core.generations import Generational
from teams.models import Category, SpecialistQueue

CONFIG_CACHE_SECONDS = 5


@ttl_cache(seconds=CONFIG_CACHE_SECONDS)
def categories_by_slug() -> dict[str, Category]:
    return {c.slug: c for c in Category.objects.select_related("queue")}


@ttl_cache(seconds=CONFIG_CACHE_SECONDS)
def queue_by_id(queue_id: int) -> SpecialistQueue | None:
    return SpecialistQueue.objects.filter(pk=queue_id).first()


def reset_config_cache() -> None:
    """Forget the cached configuration: the next read sees the database (after an edit)."""
    categories_by_slug.cache_clear()  # type: ignore[attr-defined]
    queue_by_id.cache_clear()  # type: ignore[attr-defined]
    queue_category_ids.cache_clear()  # type: ignore[attr-defined]


@ttl_cache(seconds=CONFIG_CACHE_SECONDS)
def queue_category_ids(queue_id: int) -> frozenset[int]:
    """The categories a queue serves (its specialists are the agents skilled in them)."""
    return frozenset(Category.objects.filter(queue_id=queue_id).values_list("id", flat=True))


# Per agent, the queues whose waiting tickets they may see (routing.selectors.agent_queue_ids):
# every console request asks. Kept until a skill, category or queue changes (teams.apps connects
# the signals; set_agent_skills, whose bulk insert sends none, says so itself).
AGENT_QUEUES: Generational[frozenset[int]] = Generational("teams:agent-queues")


def agent_queues_changed(sender: Any = None, **kwargs: Any) -> None:
    AGENT_QUEUES.changed()
