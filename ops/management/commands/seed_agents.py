"""Create N online agents spread evenly over every category (for load tests and benchmarks)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from teams.models import AgentProfile, AgentStatus, Category
from teams.services import AGENTS_GROUP, ensure_roles, set_agent_skills


class Command(BaseCommand):
    help = "Create online agents (both languages) with one primary category each, round-robin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=50)
        parser.add_argument("--capacity", type=int, default=5)
        parser.add_argument("--prefix", default="agent")

    @transaction.atomic
    def handle(self, *args: object, count: int, capacity: int, prefix: str, **options: object) -> None:
        group = ensure_roles()[AGENTS_GROUP]
        slugs = list(Category.objects.order_by("slug").values_list("slug", flat=True))
        for i in range(count):
            user, _ = get_user_model().objects.get_or_create(username=f"{prefix}{i:03d}")
            user.groups.add(group)
            profile, _ = AgentProfile.objects.update_or_create(
                user=user, defaults={"languages": ["zh", "en"], "capacity": capacity, "status": AgentStatus.ONLINE}
            )
            set_agent_skills(agent=profile, primary=[slugs[i % len(slugs)]])
        self.stdout.write(f"{count} agents online over {len(slugs)} categories, capacity {capacity} each.")
