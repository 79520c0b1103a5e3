"""Ways to reach a shopper: SMS providers behind one small protocol, and email through Django.

A provider either delivers or raises ProviderError; retrying is the outbox's job (backoff in
callbacks.services.outbox), never the provider's, so a slow provider cannot hold a worker.
"""

import json
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

logger = logging.getLogger(__name__)


class ProviderError(Exception):
    """The message was not accepted; the outbox tries again later."""


class SmsProvider(Protocol):
    def send(self, *, to: str, body: str, idempotency_key: str) -> None: ...


class FileSmsProvider:
    """The default: one JSON line per SMS appended to a file (or to the log when no path is set).

    Each line is written with a single O_APPEND write, so worker processes sharing the file
    never interleave their lines.
    """

    def __init__(self, path: str = "") -> None:
        self.path = Path(path) if path else None

    def send(self, *, to: str, body: str, idempotency_key: str) -> None:
        line = json.dumps(
            {"to": to, "body": body, "idempotency_key": idempotency_key, "at": timezone.now().isoformat()},
            ensure_ascii=False,
        )
        if self.path is None:
            logger.info("SMS %s", line)
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)
        except OSError as exc:
            raise ProviderError(f"could not write {self.path}: {exc}") from exc


class HttpSmsProvider:
    """POSTs {"to", "body", "idempotency_key"} as JSON to the provider's URL. Any 2xx is success;
    anything else, a timeout or a refused connection is a ProviderError. The Idempotency-Key
    header lets the provider drop a resend after a worker died between its send and our commit."""

    def __init__(self, url: str, *, timeout: float, token: str = "") -> None:
        self.url = url
        self.timeout = timeout
        self.token = token

    def send(self, *, to: str, body: str, idempotency_key: str) -> None:
        payload = json.dumps({"to": to, "body": body, "idempotency_key": idempotency_key}, ensure_ascii=False)
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=payload.encode(), headers=headers, method="POST")  # noqa: S310  # the operator's SMS_HTTP_URL, not user input
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310  # as above
                response.read()
        except urllib.error.HTTPError as exc:
            raise ProviderError(f"SMS provider answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ProviderError(f"SMS provider unreachable: {reason}") from exc


def sms_provider() -> SmsProvider:
    """The SMS provider settings.SMS_BACKEND names ("file" or "http")."""
    if settings.SMS_BACKEND == "http":
        return HttpSmsProvider(settings.SMS_HTTP_URL, timeout=settings.SMS_HTTP_TIMEOUT, token=settings.SMS_HTTP_TOKEN)
    return FileSmsProvider(settings.SMS_FILE_PATH)


def send_email(*, to: str, subject: str, body: str, ics: str = "", idempotency_key: str) -> None:
    """Through Django's configured email backend (console backend by default); an .ics calendar
    file is attached when given."""
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"X-Idempotency-Key": idempotency_key},
    )
    if ics:
        # The part's method must match the file's METHOD line, or a mail client may add a
        # cancelled event to the calendar instead of removing it.
        method = "CANCEL" if "\r\nMETHOD:CANCEL\r\n" in ics else "PUBLISH"
        message.attach("callback.ics", ics, f"text/calendar; method={method}")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # smtplib, socket and backend errors alike: retried by the outbox
        raise ProviderError(f"email not accepted: {exc}") from exc
