"""Files in the attachments storage that no row names: deleted once they are a day old.

They are expected, not a fault: store_images writes a photo's file before its row, so a
transaction that rolls back (a refused later photo, a lost idempotency race, a crash) leaves its
files behind, and so do attachments deleted with their ticket. Nothing serves such a file (every
photo is served through a row), but it holds a shopper's picture, so it does not stay.

A day's grace keeps a file whose transaction is still open (its row not yet visible) safe. The
periodic run looks only at the current and previous month's folders (names are YYYY/MM/...,
tickets.attachments._new_name), where new orphans appear, and deletes a capped batch; the
command can walk the whole storage.
"""

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.files.storage import Storage
from django.db.models import Q
from django.utils import timezone

from tickets.models import Attachment

logger = logging.getLogger(__name__)

MIN_AGE = timedelta(days=1)
# Files deleted per periodic run at most (the next run carries on).
SWEEP_BATCH = 200
# Names checked against the database per query.
LOOKUP_CHUNK = 500


@dataclass
class OrphanSweep:
    examined: int = 0
    deleted: list[str] = field(default_factory=list)
    # True when the batch limit stopped the walk before its end.
    capped: bool = False


def storage() -> Storage:
    return Attachment._meta.get_field("file").storage


def recent_folders(now: datetime) -> list[str]:
    """This month's and last month's folders, where orphans of the last weeks are."""
    last_month = now.replace(day=1) - timedelta(days=1)
    return [f"{now:%Y/%m}", f"{last_month:%Y/%m}"]


def _walk(store: Storage, folder: str) -> Iterator[str]:
    try:
        directories, files = store.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    prefix = f"{folder}/" if folder else ""
    for name in sorted(files):
        yield f"{prefix}{name}"
    for directory in sorted(directories):
        yield from _walk(store, f"{prefix}{directory}")


def _named_by_a_row(names: list[str]) -> set[str]:
    rows = Attachment.objects.filter(Q(file__in=names) | Q(thumbnail__in=names)).values_list("file", "thumbnail")
    return {name for row in rows for name in row if name}


def _chunks(names: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for name in names:
        chunk.append(name)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def delete_orphaned_files(
    *, limit: int | None = SWEEP_BATCH, everywhere: bool = False, dry_run: bool = False, now: datetime | None = None
) -> OrphanSweep:
    """Delete up to `limit` files (None: no limit) that no Attachment names as its photo or
    thumbnail and that were last written more than MIN_AGE ago; in the recent folders, or
    `everywhere`. Safe to run twice at once (a file already gone is skipped) and idempotent.
    A file whose age the storage cannot tell is kept."""
    now = now or timezone.now()
    store = storage()
    sweep = OrphanSweep()
    folders = [""] if everywhere else recent_folders(now)
    names = (name for folder in folders for name in _walk(store, folder))
    for chunk in _chunks(names, LOOKUP_CHUNK):
        sweep.examined += len(chunk)
        named = _named_by_a_row(chunk)
        for name in chunk:
            if name in named or not _old_enough(store, name, now):
                continue
            if limit is not None and len(sweep.deleted) >= limit:
                sweep.capped = True
                return sweep
            if not dry_run:
                store.delete(name)
            sweep.deleted.append(name)
    if sweep.deleted and not dry_run:
        logger.info("Deleted %s orphaned attachment files.", len(sweep.deleted))
    return sweep


def _old_enough(store: Storage, name: str, now: datetime) -> bool:
    try:
        written = store.get_modified_time(name)
    except (NotImplementedError, FileNotFoundError, OSError):
        return False
    if timezone.is_naive(written):
        written = timezone.make_aware(written)
    return now - written > MIN_AGE
