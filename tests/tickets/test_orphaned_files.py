"""Photo files that no attachment row names (a rolled-back write, a deleted ticket) are deleted
once a day old: by an hourly task in capped batches over the recent folders, and by a command
that can walk everything. A file a row names, or a young one, is never touched."""

import os
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from tests.factories import TicketFactory
from tests.photos import image_bytes
from tests.shop.helpers import photo
from tickets import orphans
from tickets.attachments import prepare_images, store_images
from tickets.models import Attachment, AuthorKind, Message
from tickets.tasks import delete_orphaned_attachments

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def aged(name: str | None, days: float) -> str:
    assert name is not None  # a stored file has a name
    path = orphans.storage().path(name)
    then = time.time() - days * 86400
    os.utime(path, (then, then))
    return name


def stray(name: str, days: float = 2) -> str:
    """A file in the storage that no row names, last written `days` ago."""
    saved = orphans.storage().save(name, ContentFile(image_bytes("PNG")))
    return aged(saved, days)


def exists(name: str | None) -> bool:
    assert name is not None  # a stored file has a name
    return orphans.storage().exists(name)


def a_message() -> Message:
    return Message.objects.create(ticket=TicketFactory.create(), author_kind=AuthorKind.SHOPPER, body="手链断了")


@pytest.fixture
def this_month() -> str:
    return f"{timezone.now():%Y/%m}"


def test_an_old_file_no_row_names_is_deleted_and_everything_else_is_kept(this_month) -> None:
    [kept] = store_images(message=a_message(), images=prepare_images([photo()]))
    Attachment.objects.filter(pk=kept.pk).update(thumbnail=stray(f"{this_month}/thumb-of-kept.jpg"))
    aged(kept.file.name, 30)  # old, but its row names it
    orphan = stray(f"{this_month}/rolled-back.png")
    young = stray(f"{this_month}/still-in-a-transaction.png", days=0.5)

    assert delete_orphaned_attachments() == 1

    assert not exists(orphan)
    assert exists(kept.file.name) and exists(f"{this_month}/thumb-of-kept.jpg") and exists(young)


def test_the_files_of_a_deleted_ticket_go_too() -> None:
    message = a_message()
    [attachment] = store_images(message=message, images=prepare_images([photo()]))
    name = aged(attachment.file.name, 2)
    message.ticket.delete()
    assert delete_orphaned_attachments() == 1 and not exists(name)


def test_a_run_is_capped_and_the_next_run_carries_on(this_month) -> None:
    names = [stray(f"{this_month}/{n}.png") for n in range(5)]
    first = orphans.delete_orphaned_files(limit=2)
    assert len(first.deleted) == 2 and first.capped
    assert sum(exists(n) for n in names) == 3
    orphans.delete_orphaned_files(limit=2)
    orphans.delete_orphaned_files(limit=2)
    assert not any(exists(n) for n in names)


def test_the_periodic_run_leaves_old_folders_to_the_command(this_month) -> None:
    ancient = stray("2019/03/forgotten.png", days=2000)
    recent = stray(f"{this_month}/recent.png")
    assert delete_orphaned_attachments() == 1
    assert exists(ancient) and not exists(recent)

    out = StringIO()
    call_command("delete_orphaned_attachments", "--all", stdout=out)
    assert not exists(ancient)
    assert "2019/03/forgotten.png" in out.getvalue() and "Deleted 1 of 1 files examined." in out.getvalue()


def test_a_dry_run_lists_and_deletes_nothing(this_month) -> None:
    orphan = stray(f"{this_month}/orphan.png")
    out = StringIO()
    call_command("delete_orphaned_attachments", "--dry-run", stdout=out)
    assert orphan in out.getvalue() and "Would delete 1 of 1" in out.getvalue()
    assert exists(orphan)


def test_last_months_folder_is_recent_too() -> None:
    now = timezone.now().replace(year=2027, month=1, day=1, hour=0)
    assert orphans.recent_folders(now) == ["2027/01", "2026/12"]
    assert orphans.recent_folders(now + timedelta(days=45)) == ["2027/02", "2027/01"]
