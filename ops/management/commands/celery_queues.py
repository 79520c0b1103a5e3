"""Print the Celery queues a worker must consume to serve everything (or one specialty)."""

from django.core.management.base import BaseCommand

from routing.selectors import celery_queue_names


class Command(BaseCommand):
    help = "Print the comma-separated Celery queue names, for `celery worker -Q $(python manage.py celery_queues)`."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(",".join(celery_queue_names()))
