"""Writes on webhook endpoints and the delivery log (the API, the admin and commands call these)."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from webhooks.catalog import ALL_EVENTS, EVENT_TYPES
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.outbox import enqueue_deliveries

# Resends touch at most this many rows per call (a time range can be large: repeat the call).
RESEND_LIMIT = 10_000
# Old events deleted per transaction, and transactions per prune run (the beat job repeats).
PRUNE_BATCH = 1000
PRUNE_BATCHES_PER_RUN = 20


def clean_event_types(value: object) -> list[str]:
    """The subscribed types, validated against the catalog ("*" for every type)."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationError({"event_types": [_('Give a non-empty list of event types, or ["*"] for all.')]})
    unknown = sorted({v for v in value if v != ALL_EVENTS and v not in EVENT_TYPES})
    if unknown:
        raise ValidationError({"event_types": [_("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)}]})
    return sorted(set(value))


def create_endpoint(
    *, client: User, url: str, event_types: list[str], description: str = "", secret: str = ""
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        client=client, url=url, event_types=clean_event_types(event_types), description=description
    )
    if secret:
        endpoint.secret = secret
    with transaction.atomic():
        endpoint.save()
    return endpoint


def update_endpoint(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint. Turning an auto-disabled endpoint active again enables it (see
    enable_endpoint): its pending rows go out again."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if url is not None:
            locked.url = url
        if event_types is not None:
            locked.event_types = clean_event_types(event_types)
        if description is not None:
            locked.description = description
        if is_active is not None:
            locked.is_active = is_active
            if is_active:
                _clear_failures(locked)
        locked.save()
        if locked.is_deliverable:
            transaction.on_commit(lambda: enqueue_deliveries([locked.pk]))
    return locked


def _clear_failures(endpoint: WebhookEndpoint) -> None:
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.consecutive_failures = 0
    endpoint.failing_since = None
    endpoint.paused_until = None


def enable_endpoint(*, endpoint_id: int) -> WebhookEndpoint:
    """After the receiver is fixed: active, failure streak forgotten, pending rows sent again."""
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    return update_endpoint(endpoint=endpoint, is_active=True)


def delete_endpoint(*, endpoint_id: int) -> None:
    """Remove an endpoint with its delivery log (its events stay for other endpoints)."""
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint_id).delete()


def rotate_secret(*, endpoint_id: int) -> WebhookEndpoint:
    from webhooks.models import new_secret

    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


def resend_deliveries(
    *,
    delivery_ids: Iterable[int] | None = None,
    endpoint_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """Send events again — chosen rows, or an endpoint's events in [since, until) — whatever
    happened to them before (delivered ones too: a receiver that lost data asks for this). Each
    goes with its own event id, so receivers that already have it drop it. A fresh retry window.
    Returns how many rows were queued."""
    now = now or timezone.now()
    rows = WebhookDelivery.objects.all()
    if delivery_ids is not None:
        rows = rows.filter(pk__in=list(delivery_ids))
    elif endpoint_id is not None:
        rows = rows.filter(endpoint_id=endpoint_id)
        if since is not None:
            rows = rows.filter(created_at__gte=since)
        if until is not None:
            rows = rows.filter(created_at__lt=until)
    else:
        raise ValueError("Name the deliveries or an endpoint.")
    with transaction.atomic():
        ids = list(rows.order_by("id").values_list("id", flat=True)[:RESEND_LIMIT])
        count = WebhookDelivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            give_up_at=now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS),
            last_error="",
            delivered_at=None,
        )
        endpoints = sorted(
            set(WebhookDelivery.objects.filter(pk__in=ids).values_list("endpoint_id", flat=True).distinct())
        )
        transaction.on_commit(lambda: enqueue_deliveries(endpoints))
    return count


def prune_outbox(
    *, now: datetime | None = None, batch_size: int = PRUNE_BATCH, max_batches: int = PRUNE_BATCHES_PER_RUN
) -> int:
    """Delete events older than WEBHOOK_RETENTION_DAYS that no endpoint still has to send (fanned
    out, none of their deliveries pending), with their deliveries and attempt log: the delivery log keeps
    that many days. Capped batches, oldest first, each its own short transaction; two runs at once
    delete each event once (the second finds it gone). Returns how many events went.

    created_at has no index (the hot path would pay for it on every event), so the time range
    becomes a range of the key: the events before the first one inside the retention (found by
    walking seq from the oldest, which reads only what is old). seq follows created_at up to a
    writer's transaction (milliseconds): an old event numbered just after a younger one goes in
    a later run."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_RETENTION_DAYS)
    kept = WebhookEvent.objects.filter(created_at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
    old = WebhookEvent.objects.filter(fanned_out_at__isnull=False)
    if kept is not None:
        old = old.filter(seq__lt=kept)
    pending = WebhookDelivery.objects.filter(event_id=OuterRef("pk"), status=DeliveryStatus.PENDING)
    pruned = 0
    after = 0  # the walk's position: the events still pending before it are not read again
    for _batch in range(max_batches):
        with transaction.atomic():
            ids = list(
                old.filter(seq__gt=after)
                .exclude(Exists(pending))
                .order_by("seq")
                .values_list("seq", flat=True)[:batch_size]
            )
            if not ids:
                break
            # Children first: the attempt log goes in one DELETE (nothing depends on it), and the
            # cascades below then find nothing left to collect.
            WebhookAttempt.objects.filter(delivery__event_id__in=ids).delete()
            WebhookDelivery.objects.filter(event_id__in=ids).delete()
            WebhookEvent.objects.filter(seq__in=ids).delete()
        pruned += len(ids)
        after = ids[-1]
        if len(ids) < batch_size:
            break
    return pruned
