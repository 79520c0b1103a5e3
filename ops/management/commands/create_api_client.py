"""Create (or show) a storefront API client and print its token."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.authtoken.models import Token

from teams.services import STOREFRONT_GROUP, ensure_roles


class Command(BaseCommand):
    help = "Create a storefront API client (a user in the storefront group) and print its API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A short name for the client, e.g. storefront-web.")

    def handle(self, *args: object, name: str, **options: object) -> None:
        if not name.replace("-", "").replace("_", "").isalnum():
            raise CommandError("The client name may contain only letters, digits, - and _.")
        groups = ensure_roles()
        user, _ = get_user_model().objects.get_or_create(username=name)
        user.set_unusable_password()
        user.save()
        user.groups.add(groups[STOREFRONT_GROUP])
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
