"""Token authentication with a short per-process memory, for the storefront's high-volume calls."""

import threading
import time
from typing import Any

from rest_framework.authentication import TokenAuthentication

# A revoked token or a deactivated client keeps working in a process for at most this long.
TOKEN_CACHE_SECONDS = 30.0
# Only valid tokens are remembered, so random tokens cannot grow the memory; the bound is a backstop.
TOKEN_CACHE_MAX_ENTRIES = 1000


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, remembering a valid token's user for a few seconds.

    A storefront client sends the same token on every inquiry; without this, each inquiry pays
    one query for the token and its user.
    """

    _valid: dict[str, tuple[float, tuple[Any, Any]]] = {}
    _lock = threading.Lock()

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        now = time.monotonic()
        hit = self._valid.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        user_and_token = super().authenticate_credentials(key)  # raises AuthenticationFailed when invalid
        with self._lock:
            if len(self._valid) >= TOKEN_CACHE_MAX_ENTRIES:
                self._valid.clear()
            self._valid[key] = (now + TOKEN_CACHE_SECONDS, user_and_token)
        return user_and_token

    @classmethod
    def reset(cls) -> None:
        """Forget every remembered token (a test's users must not outlive it)."""
        with cls._lock:
            cls._valid.clear()
