"""Live fragments answer "unchanged" (304) cheaply when nothing they show has changed.

Every group a page listens to (an agent, a queue, the supervisors, one ticket) has a version in
the cache, replaced by a fresh token after every committed change of that group and BEFORE its
hint is sent (console.push). A fragment is rendered with an ETag naming the groups it depends on
and a digest of their versions; the page sends it back as If-None-Match, and
NotModifiedMiddleware, which runs before authentication, answers 304 after one session read and
one read of the versions: no query, no template.

Why no update is lost: the view reads the versions before it reads the database, and a writer
replaces them after its commit. A change that the render missed therefore always finds a newer
version at the next re-read. A version missing from the cache, a cache that fails, a session of
another user: all mean "changed" (a full re-read). The clocks a fragment shows (waiting times,
SLA, offers) tick in the page, and callbacks falling due and presence changes are hinted; as a
bound on anything missed, the ETag also names a time window of `max_age` seconds, spread per
user so pages do not all re-render on the same second.

A version need not be a random token: a view may pin a group's version to what it rendered (the
dashboard pins "queue-health" to the computed-at time of the cached figures it showed, see
version_entry), as long as the cache holds the same value only while that render is current.

What many readers see alike (the dashboard's figures, a queue's waiting line) is rendered once
per variant (shared_render) and handed to each with their own CSRF token (personal).
"""

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

ETAG_PREFIX = "cxl1"
VERSION_KEY = "console:live:v:{}"
# A version outlives any page left open over a weekend; a missing one only costs a full re-read.
VERSION_TTL_SECONDS = 7 * 24 * 3600


SHARED_RENDER_KEY = "console:live:shared:{}"
# Stands for the reader's CSRF token in a shared render (no token may be shared between users).
CSRF_PLACEHOLDER = "cx-csrf-token-placeholder"


def ticket_group(ticket_id: int) -> str:
    """Not a channel-layer group (no socket joins it): the version of one ticket's page."""
    return f"ticket.{ticket_id}"


def bump(groups: Iterable[str]) -> None:
    """Give these groups new versions (after commit, before their hint). Never raises: a failure
    is logged, and the pages re-render within their window anyway."""
    keys = {VERSION_KEY.format(group): secrets.token_hex(6) for group in set(groups)}
    if not keys:
        return
    try:
        cache.set_many(keys, timeout=VERSION_TTL_SECONDS)
    except Exception:
        logger.warning("Could not bump live versions of %s; pages re-render within their window.", keys, exc_info=True)


def version_entry(group: str, version: str) -> dict[str, str]:
    """The cache entry that pins `group`'s version to `version`, for the caller to write together
    with what that version names (one set_many, so the two never disagree)."""
    return {VERSION_KEY.format(group): version}


def current_versions(groups: Sequence[str]) -> list[str] | None:
    """Read (creating the missing) versions of these groups; call before reading the database."""
    return _versions(groups, create_missing=True)


def kept_version(group: str) -> str | None:
    """This group's version if the cache holds one (a pinned version, see version_entry, is gone
    once what it names expired); None otherwise, or when the cache fails."""
    found = _versions([group], create_missing=False)
    return found[0] if found else None


def _versions(groups: Sequence[str], *, create_missing: bool) -> list[str] | None:
    """The groups' versions in order; None when one is missing and not created, or the cache fails."""
    keys = [VERSION_KEY.format(group) for group in groups]
    try:
        found = cache.get_many(keys)
        missing = {key: secrets.token_hex(6) for key in keys if key not in found}
        if missing:
            if not create_missing:
                return None
            # add(), not set(): a bump racing this first read must win.
            for key, token in missing.items():
                cache.add(key, token, timeout=VERSION_TTL_SECONDS)
            found.update(cache.get_many(list(missing)))
            if any(key not in found for key in keys):
                return None
    except Exception:
        logger.warning("Live versions unreadable; answering in full.", exc_info=True)
        return None
    return [str(found[key]) for key in keys]


def shared_render(variant: Sequence[str], render: Callable[[], str], *, timeout: int) -> str:
    """HTML that many readers see alike, rendered once per variant and kept `timeout` seconds.

    The variant names everything the HTML depends on: the template, the language and time zone,
    the reader's rights, and the versions of the groups it shows (read before the database, so a
    later change always misses the cache). The template renders CSRF_PLACEHOLDER where a token
    goes; `personal` puts the reader's own in. A failing cache only costs a render.
    """
    html = kept_render(variant)
    if html is None:
        html = render()
        try:
            cache.set(_shared_render_key(variant), html, timeout=timeout)
        except Exception:
            logger.warning("Shared render not kept.", exc_info=True)
    return html


def kept_render(variant: Sequence[str]) -> str | None:
    """The shared render of this variant if one is kept (see shared_render); None otherwise."""
    try:
        html: str | None = cache.get(_shared_render_key(variant))
    except Exception:
        logger.warning("Shared render unreadable; rendering.", exc_info=True)
        return None
    return html


def _shared_render_key(variant: Sequence[str]) -> str:
    return SHARED_RENDER_KEY.format(hashlib.blake2b("|".join(variant).encode(), digest_size=16).hexdigest())


def personal(request: HttpRequest, html: str) -> SafeString:
    """A shared render (HTML a template made) with this reader's CSRF token in it."""
    return mark_safe(html.replace(CSRF_PLACEHOLDER, get_token(request)))  # noqa: S308  # rendered by a template


def _window(user_id: int, max_age: int) -> int:
    return int((time.time() + (user_id * 7919) % max_age) // max_age)


def _etag(*, path: str, user_id: int, max_age: int, window: int, groups: Sequence[str], versions: Sequence[str]) -> str:
    digest = hashlib.blake2b("|".join([path, str(user_id), *versions]).encode(), digest_size=9).hexdigest()
    return f'"{ETAG_PREFIX}:{user_id}:{max_age}:{window}:{",".join(groups)}:{digest}"'


def fragment_etag(request: HttpRequest, *, groups: Sequence[str], versions: Sequence[str], max_age: int) -> str:
    """The ETag of a fragment rendered for this user from these groups' versions."""
    user_id = int(request.user.pk)  # type: ignore[arg-type]
    return _etag(
        path=request.get_full_path(),
        user_id=user_id,
        max_age=max_age,
        window=_window(user_id, max_age),
        groups=groups,
        versions=versions,
    )


def live_fragment(
    groups_of: Callable[..., Sequence[str]], *, max_age_setting: str = "CONSOLE_LIVE_MAX_AGE_SECONDS"
) -> Callable[..., Any]:
    """Decorate a live fragment's view (inside its login/permission guard): read the versions of
    groups_of(request, *args, **kwargs) first, then render, then send them as the ETag; the
    page is re-rendered at least every `max_age_setting` seconds."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            age = int(getattr(settings, max_age_setting))
            groups = list(groups_of(request, *args, **kwargs))
            versions = _versions(groups, create_missing=True) if groups else None
            response = view(request, *args, **kwargs)  # reads the database after the versions
            if versions is not None and response.status_code == 200 and request.user.pk is not None:
                response["ETag"] = fragment_etag(request, groups=groups, versions=versions, max_age=age)
            response["Cache-Control"] = "private, no-cache"
            return response

        return wrapped

    return decorate


def not_modified(request: HttpRequest) -> HttpResponse | None:
    """A 304 when the page's ETag still holds for this session's user; None: render in full."""
    if request.method != "GET":
        return None
    sent = request.headers.get("If-None-Match", "").strip()
    if not sent.startswith(f'"{ETAG_PREFIX}:'):
        return None
    try:
        _, user, age, window, group_list, _digest = sent.strip('"').split(":")
        user_id, max_age, window_no = int(user), int(age), int(window)
        groups = [group for group in group_list.split(",") if group]
    except ValueError:
        return None
    if max_age <= 0 or not groups or len(groups) > 200:
        return None
    try:
        session_user = request.session.get(SESSION_KEY)
    except Exception:
        return None
    if session_user is None or str(session_user) != str(user_id) or _window(user_id, max_age) != window_no:
        return None
    versions = _versions(groups, create_missing=False)
    if versions is None:
        return None
    current = _etag(
        path=request.get_full_path(),
        user_id=user_id,
        max_age=max_age,
        window=window_no,
        groups=groups,
        versions=versions,
    )
    if current != sent:
        return None
    response = HttpResponseNotModified()
    response["ETag"] = current
    response["Cache-Control"] = "private, no-cache"
    return response


class NotModifiedMiddleware:
    """Answer an unchanged live fragment before authentication (no query, no template).

    Sits after SessionMiddleware and before AuthenticationMiddleware; any request without one of
    our ETags passes through untouched.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return not_modified(request) or self.get_response(request)
