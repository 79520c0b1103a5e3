"""Turn the specialists into one generic pool: every agent holds every category as a primary skill.

The other half of `simulate --compare`; run against a throwaway database, never a real one.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from teams.models import AgentProfile, Category
from teams.services import set_agent_skills


class Command(BaseCommand):
    help = "Give every agent with skills every category as a primary skill (the simulator's generic pool)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        slugs = sorted(Category.objects.values_list("slug", flat=True))
        agents = AgentProfile.objects.filter(skills__isnull=False).distinct()
        for agent in agents:
            set_agent_skills(agent=agent, primary=slugs)
        self.stdout.write(f"{agents.count()} agents now take all {len(slugs)} categories.")
