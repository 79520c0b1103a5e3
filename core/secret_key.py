"""The key every signed link, session and tracking token rests on, checked before a process serves.

A project that falls back to a key written in its source lets anyone who reads the source forge
shopper links. So with DEBUG off there is no fallback: a server process (ASGI, WSGI, a Celery
worker or beat) refuses to start without a real key. Tools that sign nothing (makemigrations,
train_classifier, mypy's settings load) still run keyless; Django itself refuses any signing
with an empty key. With DEBUG on (`make run`) a key is generated once into var/.
"""

import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Django's own bar for `check --deploy` (security.W009): long, varied, not a generated dev key.
MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5
INSECURE_PREFIX = "django-insecure"


def is_weak(key: str) -> bool:
    return len(key) < MIN_LENGTH or len(set(key)) < MIN_UNIQUE_CHARACTERS or key.startswith(INSECURE_PREFIX)


def new_secret_key() -> str:
    return secrets.token_urlsafe(MIN_LENGTH)


def dev_secret_key(path: Path) -> str:
    """A key for this machine's development runs, generated on first use (readable by its owner only)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(new_secret_key())
    return path.read_text().strip()


def check_secret_key(key: str, *, debug: bool) -> None:
    """Raise ImproperlyConfigured unless a process may serve with this key."""
    if debug:
        return
    if not key:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the server refuses to start without a real key: set "
            "SECRET_KEY to a random value of at least 50 characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    if is_weak(key):
        raise ImproperlyConfigured(
            "SECRET_KEY is too weak (fewer than 50 characters, fewer than 5 distinct ones, or a "
            "'django-insecure' key). Set a random value of at least 50 characters."
        )


def require_secret_key() -> None:
    """Refuse to start a serving process (ASGI, WSGI, Celery) without a real key when DEBUG is off."""
    from django.conf import settings

    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django's own refusal of an empty key on access
        key = ""
    check_secret_key(key, debug=settings.DEBUG)
