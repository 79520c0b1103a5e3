"""Writes on teams: roles, agents and their skills."""

import secrets

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction

from core.auth import token_digest
from teams.models import AgentProfile, AgentSkill, ApiToken, Category, SkillLevel
from teams.selectors import agent_queues_changed

AGENTS_GROUP = "agents"
SUPERVISORS_GROUP = "supervisors"
STOREFRONT_GROUP = "storefront"

_ROLE_PERMISSIONS = {
    AGENTS_GROUP: ["tickets.view_ticket", "tickets.work_tickets"],
    SUPERVISORS_GROUP: ["tickets.view_ticket", "tickets.work_tickets", "teams.supervise_queues"],
    STOREFRONT_GROUP: ["tickets.submit_inquiries"],
}


def ensure_roles() -> dict[str, Group]:
    """Create the agents, supervisors and storefront groups with their permissions. Idempotent."""
    groups = {}
    for name, perms in _ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
        groups[name] = group
    return groups


@transaction.atomic
def set_agent_skills(*, agent: AgentProfile, primary: list[str], secondary: list[str] | None = None) -> None:
    """Replace an agent's skills with the given category slugs (primary wins over secondary)."""
    secondary = [slug for slug in (secondary or []) if slug not in primary]
    categories = {c.slug: c for c in Category.objects.filter(slug__in=[*primary, *secondary])}
    unknown = sorted((set(primary) | set(secondary)) - set(categories))
    if unknown:
        raise ValueError(f"Unknown categories: {', '.join(unknown)}")
    AgentSkill.objects.filter(agent=agent).delete()
    AgentSkill.objects.bulk_create(
        [AgentSkill(agent=agent, category=categories[s], level=SkillLevel.PRIMARY) for s in primary]
        + [AgentSkill(agent=agent, category=categories[s], level=SkillLevel.SECONDARY) for s in secondary]
    )
    agent_queues_changed()  # the bulk insert sends no signal


def issue_api_token(*, user: User, name: str = "", key: str | None = None) -> str:
    """Give the user a new API token and return it: the only moment it can be read, since only its
    digest is stored. `key` fixes the token (the demo's known token); normally it is random."""
    token = key or secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_digest=token_digest(token), prefix=token[:8], name=name)
    return token


def revoke_api_tokens(*, user: User, keep: str | None = None) -> int:
    """Delete the user's API tokens (but `keep`); how many went. Processes forget a revoked token
    within core.auth.TOKEN_CACHE_SECONDS."""
    tokens = ApiToken.objects.filter(user=user)
    if keep is not None:
        tokens = tokens.exclude(key_digest=token_digest(keep))
    deleted, _ = tokens.delete()
    return deleted
