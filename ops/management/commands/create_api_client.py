"""Create a storefront API client (or give an existing one a new token) and print the token."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from teams.services import STOREFRONT_GROUP, ensure_roles, issue_api_token, revoke_api_tokens


class Command(BaseCommand):
    help = (
        "Create a storefront API client (a user in the storefront group) and print a new API token. "
        "Only the token's digest is stored: copy it now, it cannot be shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A short name for the client, e.g. storefront-web.")
        parser.add_argument(
            "--revoke-others", action="store_true", help="Revoke the client's earlier tokens (rotation)."
        )

    def handle(self, *args: object, name: str, revoke_others: bool = False, **options: object) -> None:
        if not name.replace("-", "").replace("_", "").isalnum():
            raise CommandError("The client name may contain only letters, digits, - and _.")
        groups = ensure_roles()
        user, _ = get_user_model().objects.get_or_create(username=name)
        user.set_unusable_password()
        user.save()
        user.groups.add(groups[STOREFRONT_GROUP])
        token = issue_api_token(user=user, name=name)
        if revoke_others:
            revoked = revoke_api_tokens(user=user, keep=token)
            self.stderr.write(f"Revoked {revoked} earlier token(s) of {name}.")
        self.stdout.write(token)
