"""API token authentication against hashed tokens, with a short per-process memory; and the
console's permission checks, kept across requests.

`Authorization: Token <key>`, as DRF's TokenAuthentication reads it, but the database holds only
the SHA-256 digest of each key (the model named by settings.API_TOKEN_MODEL, a model with
`key_digest` and `user`), so a copy of the database opens no API. core imports no app: the model
is looked up by name.
"""

import hashlib
import threading
import time
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from core.generations import Generational

# A revoked token or a deactivated client keeps working in a process for at most this long.
TOKEN_CACHE_SECONDS = 30.0
# Only valid tokens are remembered, so random tokens cannot grow the memory; the bound is a backstop.
TOKEN_CACHE_MAX_ENTRIES = 1000


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class HashedTokenAuthentication(TokenAuthentication):
    """DRF's token scheme over stored digests."""

    def get_model(self) -> type[Model]:
        return apps.get_model(settings.API_TOKEN_MODEL)

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        model: Any = self.get_model()
        token = model.objects.select_related("user").filter(key_digest=token_digest(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token


class CachedTokenAuthentication(HashedTokenAuthentication):
    """Remembers a valid token's user for a few seconds.

    A storefront client sends the same token on every inquiry; without this, each inquiry pays
    one query for the token and its user. Remembered by digest, never by the key itself.
    """

    _valid: dict[str, tuple[float, tuple[Any, Any]]] = {}
    _lock = threading.Lock()

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        now = time.monotonic()
        digest = token_digest(key)
        hit = self._valid.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        user_and_token = super().authenticate_credentials(key)  # raises AuthenticationFailed when invalid
        with self._lock:
            if len(self._valid) >= TOKEN_CACHE_MAX_ENTRIES:
                self._valid.clear()
            self._valid[digest] = (now + TOKEN_CACHE_SECONDS, user_and_token)
        return user_and_token

    @classmethod
    def reset(cls) -> None:
        """Forget every remembered token (a test's users must not outlive it)."""
        with cls._lock:
            cls._valid.clear()


# A user's permissions, kept across requests (core.generations): every console request asks
# (can work tickets, is a supervisor) and Django's backend reads them in two queries each time.
PERMISSIONS: Generational[frozenset[str]] = Generational("auth:permissions")


class CachedPermissionsBackend(ModelBackend):
    """Answers permission checks from each user's set kept until a user, group or permission
    changes (connected in core.apps: any such change recomputes every user's set at their next
    request). Listed before Django's ModelBackend, which still authenticates (sessions name it)
    and is never asked about permissions: a "no" here raises PermissionDenied, which Django
    documents as final. Object permissions and inactive users get no permission, as from
    ModelBackend."""

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        return None  # ModelBackend's (the next in the list)

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return set()
        memo: set[str] | None = getattr(user_obj, "_cx_all_permissions", None)
        if memo is None:
            compute = super().get_all_permissions
            memo = user_obj._cx_all_permissions = set(
                PERMISSIONS.get(user_obj.pk, lambda: frozenset(compute(user_obj)))
            )
        return memo

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if perm in self.get_all_permissions(user_obj, obj):
            return True
        raise PermissionDenied

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        if any(perm.partition(".")[0] == app_label for perm in self.get_all_permissions(user_obj)):
            return True
        raise PermissionDenied


def permissions_changed(sender: Any, **kwargs: Any) -> None:
    """post_save / post_delete / m2m_changed of users, groups and permissions. A user's save
    that names its fields and none that decide permissions (the login's last_login) changes none."""
    fields = kwargs.get("update_fields")
    if fields is not None and not {"is_active", "is_superuser"} & set(fields):
        return
    if kwargs.get("action", "post_").startswith("pre_"):
        return
    PERMISSIONS.changed()
