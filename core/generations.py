"""Values read on every request but derived from rows that rarely change (a user's permissions,
their queues, their interface language), kept in the cache until one of those rows changes.

Each value is stored with the generation it was computed in; a change to its sources replaces
the generation (`changed()`), and a value of an older generation is computed afresh at its next
read. One read costs one cache round trip (the generation and the value together). The
generation is replaced twice: at once (the changing transaction's own later reads) and after the
commit, since a reader elsewhere may have read the rows before the commit and stored them under
the first new generation. A failing cache only costs the computation.
"""

import logging
import secrets
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A value is recomputed at least this often, whatever happens: the bound on staleness should a
# bump itself fail (the cache unreachable just then).
KEEP_SECONDS = 300


class Generational(Generic[T]):
    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def generation_key(self) -> str:
        # Named after the database too: a cache shared by two databases (a scratch one made afresh
        # under the same Redis) must not hand one's users the other's values.
        return f"gen:{settings.DATABASES['default']['NAME']}:{self.name}"

    @property
    def value_key(self) -> str:
        return self.generation_key + ":{}"

    def get(self, key: object, compute: Callable[[], T]) -> T:
        """The value kept for key in the current generation, or compute() (then kept)."""
        value_key = self.value_key.format(key)
        try:
            found = cache.get_many([self.generation_key, value_key])
            generation = found.get(self.generation_key)
            if generation is None:
                cache.add(self.generation_key, secrets.token_hex(6), timeout=None)
                generation = cache.get(self.generation_key)
        except Exception:
            logger.warning("Cache unreadable; computing %s.", value_key, exc_info=True)
            return compute()
        kept = found.get(value_key)
        if generation is not None and isinstance(kept, tuple) and len(kept) == 2 and kept[0] == generation:
            return kept[1]  # type: ignore[no-any-return]
        value = compute()
        if generation is not None:
            try:
                cache.set(value_key, (generation, value), timeout=KEEP_SECONDS)
            except Exception:
                logger.warning("Could not keep %s.", value_key, exc_info=True)
        return value

    def changed(self) -> None:
        """A source of these values changed: every kept value is stale, at once for readers in
        this transaction and again after its commit for everyone."""
        self._bump()
        transaction.on_commit(self._bump, robust=True)

    def _bump(self) -> None:
        try:
            cache.set(self.generation_key, secrets.token_hex(6), timeout=None)
        except Exception:
            logger.error(
                "Could not invalidate %s: kept values may be stale for up to %s s.",
                self.generation_key,
                KEEP_SECONDS,
                exc_info=True,
            )

    def forget(self) -> None:
        """Every kept value is stale from now on (tests start each case with none)."""
        self._bump()
