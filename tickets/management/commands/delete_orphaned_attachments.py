"""Delete photo files that no attachment row names (left by rolled-back writes and deleted
tickets), once they are a day old. The periodic task does the recent folders in capped batches;
this command can walk everything (after an outage, or once after a migration)."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tickets.orphans import SWEEP_BATCH, delete_orphaned_files


class Command(BaseCommand):
    help = "Delete attachment files older than a day that no Attachment row names."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--all", action="store_true", help="Walk the whole attachments storage, not only the last two months."
        )
        parser.add_argument("--dry-run", action="store_true", help="List what would be deleted; delete nothing.")
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            help=f"Stop after this many files (default: no limit; the task uses {SWEEP_BATCH}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        sweep = delete_orphaned_files(limit=limit, everywhere=options["all"], dry_run=options["dry_run"])
        for name in sweep.deleted:
            self.stdout.write(name)
        verb = "Would delete" if options["dry_run"] else "Deleted"
        more = " (limit reached: run again for the rest)" if sweep.capped else ""
        self.stdout.write(f"{verb} {len(sweep.deleted)} of {sweep.examined} files examined{more}.")
